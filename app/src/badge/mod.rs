//! Embeddable badges: `/badge/{ns}/{repo}.svg` in the familiar two-part style
//! and `/badge/{ns}/{repo}.json` in the shields.io endpoint schema.

#[cfg(feature = "ssr")]
pub mod api;

/// The left-hand text.
pub const LABEL: &str = "iEchor";
/// Colors of the right-hand part.
pub const COLOR_SPONSORED: &str = "#6b3fd4";
pub const COLOR_NOT: &str = "#9f9f9f";

/// The right-hand text and color for a repository.
pub fn message(sponsored: bool) -> (&'static str, &'static str) {
    if sponsored {
        ("sponsored OSS", COLOR_SPONSORED)
    } else {
        ("not sponsored", COLOR_NOT)
    }
}

fn text_width(s: &str) -> u32 {
    // Verdana 11px averages about 6.6 px per character in these strings.
    (s.chars().count() as f32 * 6.6).ceil() as u32 + 10
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A flat two-part badge as SVG.
pub fn svg(label: &str, message: &str, color: &str) -> String {
    let lw = text_width(label);
    let mw = text_width(message);
    let w = lw + mw;
    let (label, message) = (escape(label), escape(message));
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="20" role="img" aria-label="{label}: {message}"><title>{label}: {message}</title><linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient><clipPath id="r"><rect width="{w}" height="20" rx="3" fill="#fff"/></clipPath><g clip-path="url(#r)"><rect width="{lw}" height="20" fill="#555"/><rect x="{lw}" width="{mw}" height="20" fill="{color}"/><rect width="{w}" height="20" fill="url(#s)"/></g><g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" font-size="11"><text x="{lx}" y="15" fill="#010101" fill-opacity=".3">{label}</text><text x="{lx}" y="14">{label}</text><text x="{mx}" y="15" fill="#010101" fill-opacity=".3">{message}</text><text x="{mx}" y="14">{message}</text></g></svg>"##,
        lx = lw / 2,
        mx = lw + mw / 2,
    )
}

/// The shields.io endpoint-badge JSON.
pub fn shields_json(sponsored: bool) -> String {
    let (msg, color) = message(sponsored);
    serde_json::json!({
        "schemaVersion": 1,
        "label": LABEL,
        "message": msg,
        "color": color.trim_start_matches('#'),
    })
    .to_string()
}

/// The Markdown a maintainer pastes into a README.
pub fn markdown_snippet(base: &str, ns: &str, repo: &str) -> String {
    format!("[![iEchor sponsored OSS]({base}/badge/{ns}/{repo}.svg)]({base}/r/{ns}/{repo})")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn svg_and_json() {
        let s = svg(LABEL, "sponsored OSS", COLOR_SPONSORED);
        assert!(
            s.starts_with("<svg") && s.contains("sponsored OSS") && s.contains(COLOR_SPONSORED)
        );
        assert!(svg("a<b", "c&d", "#fff").contains("a&lt;b"));
        let j: serde_json::Value = serde_json::from_str(&shields_json(true)).expect("json");
        assert_eq!(j["schemaVersion"], 1);
        assert_eq!(j["message"], "sponsored OSS");
        assert_eq!(j["label"], "iEchor");
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&shields_json(false)).expect("j")["message"],
            "not sponsored"
        );
        assert_eq!(
            markdown_snippet("https://hub.example", "fluentorg", "fluent-bit"),
            "[![iEchor sponsored OSS](https://hub.example/badge/fluentorg/fluent-bit.svg)](https://hub.example/r/fluentorg/fluent-bit)"
        );
    }
}
