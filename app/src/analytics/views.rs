//! The Insights tab: a span's pulls loaded once (rendered on the server for
//! the first paint), then granularity and tag/digest switched in the browser
//! from the same data. Every selection lives in the URL (plain links, so the
//! page works without JavaScript too). Charts are SVG with a tooltip per bar
//! and a table alternative; colours come from CSS variables (light and dark).

use super::{Gate, Insights, country_name, host_name};
use crate::domain::agent;
use crate::domain::pulls::{Counts, Granularity, PRESETS, Series, format_day};
use crate::ui::thousands;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

/// Keys drawn separately before the rest become "Other".
const TOP_KEYS: usize = 5;

/// The URL state of the page.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Selection {
    repo: Option<String>,
    span: Option<String>,
    from: Option<String>,
    to: Option<String>,
    granularity: Granularity,
    by_digest: bool,
}

impl Selection {
    /// The page's URL with one change applied.
    fn href(&self, ns: &str, change: impl FnOnce(&mut Selection)) -> String {
        let mut s = self.clone();
        change(&mut s);
        let mut q: Vec<String> = Vec::new();
        if let Some(r) = &s.repo {
            q.push(format!("repo={r}"));
        }
        match (&s.from, &s.to) {
            (Some(f), Some(t)) => q.push(format!("from={f}&to={t}")),
            (Some(f), None) => q.push(format!("from={f}")),
            _ => {
                if let Some(sp) = &s.span {
                    q.push(format!("span={sp}"));
                }
            }
        }
        if s.granularity != Granularity::Day {
            q.push(format!("g={}", s.granularity.as_str()));
        }
        if s.by_digest {
            q.push("by=digest".into());
        }
        if q.is_empty() {
            format!("/u/{ns}/insights")
        } else {
            format!("/u/{ns}/insights?{}", q.join("&"))
        }
    }
}

/// `/u/{ns}/insights`
#[component]
pub fn InsightsPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let ns = move || params.with(|p| p.get("ns").unwrap_or_default());
    let sel = Memo::new(move |_| {
        query.with(|q| {
            let get = |k: &str| q.get(k).filter(|v| !v.is_empty());
            Selection {
                repo: get("repo"),
                span: get("span"),
                from: get("from"),
                to: get("to"),
                granularity: get("g")
                    .and_then(|g| Granularity::parse(&g).ok())
                    .unwrap_or_default(),
                by_digest: get("by").as_deref() == Some("digest"),
            }
        })
    });
    // Only the span (and repository) reloads data; the rest is computed here.
    let data = crate::wire::resource(
        move || {
            let s = sel.get();
            (ns(), s.repo, s.span, s.from, s.to)
        },
        |(ns, repo, span, from, to)| async move {
            crate::ui::with_page_status(super::api::insights_fn(ns, repo, span, from, to).await)
        },
    );
    view! {
        <Title text=format!("Insights — {} — iEchor Hub", ns())/>
        <p class="crumbs"><a href=move || format!("/u/{}", ns())>{ns}</a>" / Insights"</p>
        <h1>"Insights and analytics"</h1>
        <Transition fallback=|| view! { <Skeleton/> }>
            {move || data.get().map(|r| match r {
                Err(e) => view! { <p class="error-box" role="alert">{e.message}</p> }.into_any(),
                Ok(d) => view! { <Dashboard d=d sel=sel/> }.into_any(),
            })}
        </Transition>
    }
}

#[component]
fn Skeleton() -> impl IntoView {
    view! {
        <div class="insights-skeleton" aria-busy="true" aria-label="Loading insights">
            <div class="skeleton" style="height:2.5rem;width:60%"></div>
            <div class="skeleton" style="height:16rem"></div>
            <div class="skeleton" style="height:8rem;width:48%"></div>
        </div>
    }
}

#[component]
fn Dashboard(d: Insights, sel: Memo<Selection>) -> impl IntoView {
    let ns = d.namespace.clone();
    if let Some(why) = d.gate.refusal(&ns) {
        let link = match d.gate {
            Gate::NotMember => view! { <a class="button" href="/signin">"Sign in"</a> }.into_any(),
            _ => view! { <a class="button" href=format!("/u/{ns}/program")>"Go to the Program page"</a> }.into_any(),
        };
        return view! {
            <div class="panel gate" data-testid="insights-gate">
                <p>{why}</p>
                {link}
            </div>
        }
        .into_any();
    }
    let d = StoredValue::new(d);
    let ns = StoredValue::new(ns);
    let span = d.with_value(|d| d.span);
    let totals = d.with_value(|d| d.totals());
    let uniques = d.with_value(|d| d.unique_total());
    let export = move |view: &str| {
        let s = sel.get();
        format!(
            "/api/v1/namespaces/{}/pulls/export?view={view}&from={}&to={}&granularity={}",
            ns.get_value(),
            format_day(span.from),
            format_day(span.to),
            s.granularity.as_str()
        )
    };
    view! {
        <div class="insights-controls" role="group" aria-label="Insights view">
            <div class="seg" role="group" aria-label="Repository">
                <a href=move || sel.get().href(&ns.get_value(), |s| s.repo = None)
                   aria-current=move || sel.get().repo.is_none().then_some("true")>"All repositories"</a>
                {d.with_value(|d| d.repositories.clone()).into_iter().map(|r| {
                    let r2 = r.clone();
                    let r3 = r.clone();
                    view! {
                        <a href=move || { let r = r2.clone(); sel.get().href(&ns.get_value(), move |s| s.repo = Some(r)) }
                           aria-current=move || (sel.get().repo.as_deref() == Some(r3.as_str())).then_some("true")>{r}</a>
                    }
                }).collect_view()}
            </div>
            <div class="seg" role="group" aria-label="Time span" data-testid="span-links">
                {PRESETS.iter().map(|(k, label)| {
                    let k = *k;
                    view! {
                        <a href=move || sel.get().href(&ns.get_value(), |s| { s.span = Some(k.into()); s.from = None; s.to = None; })
                           aria-current=move || {
                               let s = sel.get();
                               let active = s.from.is_none() && s.span.as_deref().unwrap_or("30d") == k;
                               active.then_some("true")
                           }
                           data-span=k>{*label}</a>
                    }
                }).collect_view()}
            </div>
            <form class="range" method="get" action=format!("/u/{}/insights", ns.get_value())>
                {move || sel.get().repo.map(|r| view! { <input type="hidden" name="repo" value=r/> })}
                <label for="ins-from">"From"</label>
                <input id="ins-from" type="date" name="from" value=format_day(span.from)/>
                <label for="ins-to">"To"</label>
                <input id="ins-to" type="date" name="to" value=format_day(span.to)/>
                <button type="submit" class="secondary">"Show"</button>
            </form>
            <div class="seg" role="group" aria-label="Granularity" data-testid="granularity-links">
                {Granularity::ALL.into_iter().map(|g| view! {
                    <a href=move || sel.get().href(&ns.get_value(), |s| s.granularity = g)
                       aria-current=move || (sel.get().granularity == g).then_some("true")
                       data-granularity=g.as_str()>{match g { Granularity::Day => "Day", Granularity::Week => "Week", Granularity::Month => "Month" }}</a>
                }).collect_view()}
            </div>
            <div class="seg" role="group" aria-label="Pulls by" data-testid="by-links">
                <a href=move || sel.get().href(&ns.get_value(), |s| s.by_digest = false)
                   aria-current=move || (!sel.get().by_digest).then_some("true") data-by="tag">"By tag"</a>
                <a href=move || sel.get().href(&ns.get_value(), |s| s.by_digest = true)
                   aria-current=move || sel.get().by_digest.then_some("true") data-by="digest">"By digest"</a>
            </div>
        </div>
        <p class="muted" data-testid="span-label">
            {format!("{} – {} ({} days, UTC)", format_day(span.from), format_day(span.to), span.days())}
        </p>
        <ul class="stats" data-testid="insights-totals">
            <li><strong data-testid="total-pulls-by-tag">{thousands(totals.pulls_by_tag)}</strong>"pulls by tag"</li>
            <li><strong data-testid="total-pulls-by-digest">{thousands(totals.pulls_by_digest)}</strong>"pulls by digest"</li>
            <li><strong data-testid="total-version-checks">{thousands(totals.version_checks)}</strong>"version checks"</li>
            <li><strong>{thousands(uniques)}</strong>"unique IP addresses (summed per day)"</li>
        </ul>
        <div class="actions">
            <a class="button secondary" href=move || export("summary") download data-testid="export-summary">"Export summary (CSV)"</a>
            <a class="button secondary" href=move || export("raw") download data-testid="export-raw">{format!("Export raw events (CSV, {} rows)", thousands(totals.total()))}</a>
        </div>
        {if totals.total() == 0 {
            view! {
                <div class="panel empty" data-testid="insights-empty">
                    <h2>"No pulls in this span yet"</h2>
                    <p>"Pulls are counted when a client fetches a manifest from this hub (docker pull, podman pull, a Kubernetes node…), or when your own registry sends its notifications to "<code>"POST /api/v1/events/distribution"</code>". Try a longer span, or pull an image."</p>
                </div>
            }.into_any()
        } else {
            let chart = view! {
                <section class="panel">
                    <h2>{move || if sel.get().by_digest { "Pulls by digest" } else { "Pulls by tag" }}</h2>
                    {move || {
                        let s = sel.get();
                        d.with_value(|d| {
                            let series = if s.by_digest { &d.by_digest } else { &d.by_tag };
                            view! { <TimeChart series=series.clone() g=s.granularity span=d.span digest=s.by_digest/> }.into_any()
                        })
                    }}
                </section>
            }.into_any();
            let breakdowns = view! {
                <div class="breakdowns">
                    <Breakdown title="Countries" rows=d.with_value(|d| d.countries.clone()) name=|k| country_name(k).to_string()/>
                    <Breakdown title="Cloud providers" rows=d.with_value(|d| d.hosts.clone()) name=|k| host_name(k).to_string()/>
                    <Breakdown title="Clients" rows=d.with_value(|d| d.tools.clone()) name=|k| agent::label(k).to_string()/>
                    <Breakdown title="Actions" rows=vec![
                        ("Pulls by tag".to_string(), Counts { pulls_by_tag: totals.pulls_by_tag, ..Counts::default() }),
                        ("Pulls by digest".to_string(), Counts { pulls_by_digest: totals.pulls_by_digest, ..Counts::default() }),
                        ("Version checks".to_string(), Counts { version_checks: totals.version_checks, ..Counts::default() }),
                    ] name=|k| k.to_string()/>
                </div>
            }.into_any();
            view! { {chart}{breakdowns} }.into_any()
        }}
    }
    .into_any()
}

/// A round axis maximum at or above `v` (1, 2, 2.5, 5 × 10ⁿ).
fn nice_max(v: u64) -> u64 {
    if v <= 4 {
        return 4;
    }
    let mut base = 1u64;
    while base * 10 < v {
        base *= 10;
    }
    for m in [1, 2, 4, 5, 8, 10] {
        if base * m >= v {
            return base * m;
        }
    }
    base * 10
}

fn short_key(k: &str, digest: bool) -> String {
    if !digest {
        return k.to_string();
    }
    // `repo@sha256:0123…` → `repo@0123456789ab`
    match k.split_once("sha256:") {
        Some((before, hex)) => format!("{before}{}", &hex[..hex.len().min(12)]),
        None => k.to_string(),
    }
}

/// Stacked bars per period: the top keys, then "Other".
#[component]
fn TimeChart(
    series: Series,
    g: Granularity,
    span: crate::domain::pulls::Span,
    digest: bool,
) -> impl IntoView {
    let periods = Series::periods(g, span);
    let totals = series.totals();
    let top: Vec<String> = totals.iter().take(TOP_KEYS).map(|t| t.0.clone()).collect();
    let has_other = totals.len() > TOP_KEYS;
    let index_of = |k: &str| top.iter().position(|t| t == k).unwrap_or(TOP_KEYS);
    let buckets = series.bucket(g, span);
    // stacks[p][k] = pulls (GETs and HEADs) of key group k in period p
    let groups = top.len() + usize::from(has_other);
    let mut stacks = vec![vec![0u64; groups.max(1)]; periods.len()];
    for ((start, key), c) in &buckets {
        let at = (*start).max(span.from);
        let Some(p) = periods.iter().position(|(s, e)| *s <= at && at <= *e) else {
            continue;
        };
        let name = series
            .keys
            .get(*key as usize)
            .map(String::as_str)
            .unwrap_or("");
        let k = index_of(name).min(groups.saturating_sub(1));
        stacks[p][k] += c.total();
    }
    let max = nice_max(
        stacks
            .iter()
            .map(|s| s.iter().sum::<u64>())
            .max()
            .unwrap_or(0),
    );
    let (w, h, left, bottom, top_pad) = (760.0, 260.0, 56.0, 28.0, 10.0);
    let plot_w = w - left - 8.0;
    let plot_h = h - bottom - top_pad;
    let bw = plot_w / periods.len().max(1) as f64;
    let label_every = (periods.len() / 8).max(1);
    let mut names: Vec<String> = top.iter().map(|k| short_key(k, digest)).collect();
    if has_other {
        names.push("Other".into());
    }
    let names_for_table = names.clone();
    let fmt_period = move |(s, e): (i64, i64)| {
        if s == e {
            format_day(s)
        } else {
            format!("{} – {}", format_day(s), format_day(e))
        }
    };
    let grid = (0..=4)
        .map(|i| {
            let v = max * i / 4;
            let y = top_pad + plot_h - plot_h * i as f64 / 4.0;
            view! {
                <line x1=left x2=w - 8.0 y1=y y2=y class="grid"/>
                <text x=left - 6.0 y=y + 4.0 class="axis" text-anchor="end">{thousands(v)}</text>
            }
        })
        .collect_view();
    let bars = periods.iter().enumerate().map(|(p, (s, e))| {
        let mut y = top_pad + plot_h;
        let x = left + bw * p as f64 + bw * 0.1;
        let segs = stacks[p].iter().enumerate().filter(|(_, n)| **n > 0).map(|(k, n)| {
            let hgt = plot_h * *n as f64 / max as f64;
            y -= hgt;
            let tip = format!("{} · {}: {} pulls", fmt_period((*s, *e)), names.get(k).cloned().unwrap_or_default(), thousands(*n));
            view! {
                <rect x=x y=y width=(bw * 0.8).max(1.0) height=hgt class=format!("c{}", k + 1)>
                    <title>{tip}</title>
                </rect>
            }
        }).collect_view();
        let label = (p % label_every == 0).then(|| view! {
            <text x=x + bw * 0.4 y=h - 8.0 class="axis" text-anchor="middle">{format_day(*s)[5..].to_string()}</text>
        });
        view! { <g>{segs}{label}</g> }
    }).collect_view();
    let table_rows = periods
        .iter()
        .enumerate()
        .map(|(p, (s, e))| {
            view! {
                <tr>
                    <th scope="row">{fmt_period((*s, *e))}</th>
                    {stacks[p].iter().map(|n| view! { <td>{n.to_string()}</td> }).collect_view()}
                </tr>
            }
        })
        .collect_view();
    view! {
        <figure class="chart" data-testid="time-chart" data-periods=periods.len()>
            <div class="chart-scroll" tabindex="0" role="region" aria-label="Chart (scrolls sideways)">
            <svg viewBox=format!("0 0 {w} {h}") role="img"
                 aria-label=format!("Pulls per {} by {}, {} periods", g.as_str(), if digest { "digest" } else { "tag" }, periods.len())>
                {grid}
                {bars}
            </svg>
            </div>
            <figcaption class="legend">
                {names.iter().enumerate().map(|(k, n)| view! {
                    <span><i class=format!("swatch c{}", k + 1)></i>{n.clone()}</span>
                }).collect_view()}
            </figcaption>
            <details>
                <summary>"Show as a table"</summary>
                <div class="table-wrap">
                    <table data-testid="time-table">
                        <thead><tr><th scope="col">"Period"</th>
                            {names_for_table.into_iter().map(|n| view! { <th scope="col">{n}</th> }).collect_view()}
                        </tr></thead>
                        <tbody>{table_rows}</tbody>
                    </table>
                </div>
            </details>
        </figure>
    }
    .into_any()
}

/// Sorted bars with their numbers (a table that reads as a chart).
#[component]
fn Breakdown(
    title: &'static str,
    rows: Vec<(String, Counts)>,
    name: fn(&str) -> String,
) -> impl IntoView {
    let max = rows.iter().map(|r| r.1.total()).max().unwrap_or(0).max(1);
    let all: u64 = rows.iter().map(|r| r.1.total()).sum::<u64>().max(1);
    view! {
        <section class="panel breakdown">
            <h2>{title}</h2>
            <table>
                <thead><tr><th scope="col">{title}</th><th scope="col" class="barcell"><span class="sr-only">"Share as a bar"</span></th><th scope="col" class="num">"Pulls"</th><th scope="col" class="num">"Share"</th></tr></thead>
                <tbody>
                    {rows.into_iter().take(12).map(|(k, c)| {
                        let pct = c.total() as f64 * 100.0 / max as f64;
                        let share = c.total() as f64 * 100.0 / all as f64;
                        view! {
                            <tr title=format!("{}: {} pulls by tag, {} by digest, {} version checks", name(&k), c.pulls_by_tag, c.pulls_by_digest, c.version_checks)>
                                <th scope="row">{name(&k)}</th>
                                <td class="barcell" aria-hidden="true"><span class="hbar" style=format!("width:{pct:.1}%")></span></td>
                                <td class="num">{thousands(c.total())}</td>
                                <td class="num">{format!("{share:.1} %")}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </section>
    }
    .into_any()
}
