//! The logo on repository and organization pages: a camera button for admins,
//! a file picker and drag-and-drop, the shared rule checked in wasm before any
//! upload, a preview dialog, an upload with progress and cancel, and Clear.

use super::{LogoInfo, LogoSource};
use crate::error::AppError;
use leptos::prelude::*;

/// The dialog's state.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(
    not(feature = "hydrate"),
    expect(dead_code, reason = "the browser build constructs the upload steps")
)]
enum Step {
    Closed,
    Reading,
    /// Refused in the browser by the shared rule (or by the server after upload).
    Refused {
        code: String,
        message: String,
        by_server: bool,
    },
    /// Accepted by the header rule: preview, Upload / Cancel.
    Preview {
        url: String,
        name: String,
        width: u32,
        height: u32,
        bytes: u64,
        format: &'static str,
    },
    Uploading {
        percent: u32,
    },
    ConfirmClear,
}

/// Logo with its editor. `repository` is empty for the organization logo.
#[component]
pub fn LogoEditor(namespace: String, repository: String, info: LogoInfo) -> impl IntoView {
    let current = RwSignal::new(info);
    let step = RwSignal::new(Step::Closed);
    let clear = ServerAction::<super::api::ClearLogo>::new();
    Effect::new(move |_| match clear.value().get() {
        Some(Ok(i)) => {
            current.set(i);
            step.set(Step::Closed);
        }
        Some(Err(e)) => step.set(Step::Refused {
            code: "server".into(),
            message: e.message,
            by_server: true,
        }),
        None => {}
    });
    let for_org = repository.is_empty();
    let label = if for_org {
        "organization logo"
    } else {
        "repository logo"
    };
    #[cfg(feature = "hydrate")]
    let picked: StoredValue<Option<client::Picked>, LocalStorage> = StoredValue::new_local(None);
    let target = StoredValue::new((namespace.clone(), repository.clone()));
    #[cfg(feature = "hydrate")]
    let choose = move |file: web_sys::File| client::check(file, step, picked);
    #[cfg(feature = "hydrate")]
    let on_change = move |ev: leptos::ev::Event| {
        use wasm_bindgen::JsCast;
        if let Some(input) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
        {
            if let Some(f) = input.files().and_then(|l| l.get(0)) {
                choose(f);
            }
            input.set_value("");
        }
    };
    #[cfg(not(feature = "hydrate"))]
    let on_change = move |_ev: leptos::ev::Event| {};
    #[cfg(feature = "hydrate")]
    let on_drop = move |ev: leptos::ev::DragEvent| {
        ev.prevent_default();
        if !current.get_untracked().can_change {
            return;
        }
        if let Some(f) = ev
            .data_transfer()
            .and_then(|d| d.files())
            .and_then(|l| l.get(0))
        {
            choose(f);
        }
    };
    #[cfg(not(feature = "hydrate"))]
    let on_drop = move |_ev: leptos::ev::DragEvent| {};
    #[cfg(feature = "hydrate")]
    let upload = move |_: leptos::ev::MouseEvent| {
        target.with_value(|(ns, repo)| client::upload(ns, repo, step, current, picked))
    };
    #[cfg(not(feature = "hydrate"))]
    let upload = move |_: leptos::ev::MouseEvent| target.with_value(|_| ());
    #[cfg(feature = "hydrate")]
    let cancel = move |_: leptos::ev::MouseEvent| {
        client::cancel(picked);
        step.set(Step::Closed);
    };
    #[cfg(not(feature = "hydrate"))]
    let cancel = move |_: leptos::ev::MouseEvent| step.set(Step::Closed);
    // Opens and closes the native dialog with the step.
    let dialog = NodeRef::<leptos::html::Dialog>::new();
    Effect::new(move |_| {
        let open = step.get() != Step::Closed;
        if let Some(d) = dialog.get() {
            if open && !d.open() {
                let _ = d.show_modal();
            } else if !open && d.open() {
                d.close();
            }
        }
    });
    let dialog_title = if for_org {
        "org-logo-dialog-title"
    } else {
        "logo-dialog-title"
    };
    let input_id = if for_org {
        "org-logo-input"
    } else {
        "logo-input"
    };
    view! {
        <div class="logo-editor">
        <div class="logo-box" on:dragover=move |ev: leptos::ev::DragEvent| ev.prevent_default() on:drop=on_drop>
            <img class="logo" data-testid="logo-img" alt=label
                src=move || current.get().url
                data-source=move || match current.get().source { LogoSource::Repository => "repository", LogoSource::Organization => "organization", LogoSource::Default => "default" }/>
            <Show when=move || current.get().can_change>
                <label class="camera" for=input_id title=format!("Upload {} (PNG or JPEG, 120–1000 px on each side, up to 5 MB)", with_article(label)) data-testid="logo-camera">
                    <svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round">
                        <path d="M23 19a2 2 0 0 1-2 2H3a2 2 0 0 1-2-2V8a2 2 0 0 1 2-2h4l2-3h6l2 3h4a2 2 0 0 1 2 2z"/>
                        <circle cx="12" cy="13" r="4"/>
                    </svg>
                    <span class="sr-only">{format!("Upload {}", with_article(label))}</span>
                </label>
                <input id=input_id type="file" class="sr-only" accept="image/png,image/jpeg" data-testid="logo-input" on:change=on_change/>
            </Show>
        </div>
        <Show when=move || current.get().can_change && ((!for_org && current.get().source == LogoSource::Repository) || (for_org && current.get().source == LogoSource::Organization))>
            <button class="link-button clear-logo" data-testid="logo-clear" on:click=move |_| step.set(Step::ConfirmClear)>"Clear"</button>
        </Show>
        </div>
        // Beside the editor, not in its column: in a page's header row it
        // wraps onto its own line under the title.
        {move || current.get().locked_reason.map(|r| view! { <p class="muted small logo-note" data-testid="logo-locked">{r}</p> })}
        // A native modal dialog: focus moves into it, the page behind is
        // inert, and Escape closes it (except mid-upload: cancel that first).
        <dialog class="dialog" node_ref=dialog aria-labelledby=dialog_title data-testid="logo-dialog"
            on:cancel=move |ev: leptos::ev::Event| if matches!(step.get_untracked(), Step::Uploading { .. }) { ev.prevent_default() }
            on:close=move |_| {
                // The event comes a task later: ignore it if the dialog was
                // opened again meanwhile (a new file chosen at once).
                let still_closed = dialog.get_untracked().is_some_and(|d| !d.open());
                if still_closed && step.get_untracked() != Step::Closed {
                    step.set(Step::Closed)
                }
            }>
                    <h2 id=dialog_title>{if for_org { "Organization logo" } else { "Repository logo" }}</h2>
                    {
                        move || match step.get() {
                        Step::Closed => ().into_any(),
                        Step::Reading => view! { <p data-testid="logo-verdict" data-code="reading">"Checking the file…"</p> }.into_any(),
                        Step::Refused { code, message, by_server } => view! {
                            <p class="error-box" role="alert" data-testid="logo-verdict" data-code=code.clone() data-by-server=by_server.to_string()>{message}</p>
                            <p class="muted small">"Logos are PNG or JPEG, 120×120 to 1000×1000 pixels, at most 5 MB (5,242,880 bytes)."</p>
                            <div class="row"><button class="secondary" on:click=move |_| step.set(Step::Closed)>"Close"</button></div>
                        }.into_any(),
                        Step::Preview { url, name, width, height, bytes, format } => view! {
                            <p data-testid="logo-verdict" data-code="ok" class="ok">{format!("{name}: {format}, {width}×{height} pixels, {} bytes — ready to upload.", crate::ui::thousands(bytes))}</p>
                            <img class="logo-preview" src=url alt="Preview of the new logo"/>
                            <div class="row">
                                <button data-testid="logo-upload" on:click=upload>"Upload"</button>
                                <button class="secondary" data-testid="logo-cancel" on:click=cancel>"Cancel"</button>
                            </div>
                        }.into_any(),
                        Step::Uploading { percent } => view! {
                            <p>"Uploading…"</p>
                            <progress max="100" value=percent data-testid="logo-progress">{format!("{percent}%")}</progress>
                            <div class="row"><button class="secondary" data-testid="logo-cancel" on:click=cancel>"Cancel upload"</button></div>
                        }.into_any(),
                        Step::ConfirmClear => {
                            view! {
                            <p>{if for_org { "Remove the organization logo? Repositories without their own logo show the default cube." } else { "Remove this repository's logo? The page shows the organization logo, or the default cube." }}</p>
                            <div class="row">
                                <button class="danger" data-testid="logo-clear-confirm" on:click=move |_| {
                                    let (namespace, repository) = target.get_value();
                                    clear.dispatch(super::api::ClearLogo { namespace, repository });
                                }>"Clear logo"</button>
                                <button class="secondary" on:click=move |_| step.set(Step::Closed)>"Keep it"</button>
                            </div>
                        }.into_any()},
                    }}
        </dialog>
    }
}

/// Parses the server's JSON error, or explains the status.
pub fn server_error(status: u16, body: &str) -> AppError {
    crate::wire::from_json::<AppError>(body.as_bytes()).unwrap_or_else(|_| {
        AppError::new(
            crate::error::ErrorKind::Internal,
            format!("The server answered {status}. Please try again."),
        )
    })
}

#[cfg(feature = "hydrate")]
mod client {
    use super::super::{LogoInfo, validate};
    use super::Step;
    use leptos::prelude::*;
    use wasm_bindgen::JsCast;
    use wasm_bindgen::closure::Closure;

    /// The rule a refused upload broke (`{"error": {"details": {"rule": …}}}`),
    /// read with the browser's `JSON.parse`: the browser build does not
    /// decode errors' `details` (see `crate::error::AppError`).
    fn refused_rule(body: &str) -> Option<String> {
        let mut v = js_sys::JSON::parse(body).ok()?;
        for key in ["error", "details", "rule"] {
            v = js_sys::Reflect::get(&v, &key.into()).ok()?;
        }
        v.as_string()
    }

    /// The file chosen, its preview URL, and the request in flight.
    pub struct Picked {
        file: web_sys::File,
        _preview: gloo_file::ObjectUrl,
        xhr: Option<web_sys::XmlHttpRequest>,
    }

    /// Runs the shared rule on the chosen file, before any upload.
    pub fn check(
        file: web_sys::File,
        step: RwSignal<Step>,
        picked: StoredValue<Option<Picked>, LocalStorage>,
    ) {
        let size = file.size() as u64;
        let name = file.name();
        if size == 0 || size > super::super::MAX_BYTES {
            if let Err(r) = validate(size, &[]) {
                step.set(Step::Refused {
                    code: r.code().into(),
                    message: r.message(),
                    by_server: false,
                });
            }
            return;
        }
        step.set(Step::Reading);
        leptos::task::spawn_local(async move {
            let gf = gloo_file::File::from(file.clone());
            // The header rule needs only the beginning; 64 KiB covers PNG IHDR
            // and JPEG frame headers after typical metadata, and the rule reads
            // the whole file when that is not enough.
            let blob = gloo_file::Blob::from(
                file.slice_with_f64_and_f64(0.0, 65536.0)
                    .unwrap_or_else(|_| file.clone().into()),
            );
            let head = gloo_file::futures::read_as_bytes(&blob)
                .await
                .unwrap_or_default();
            let verdict = match validate(size, &head) {
                Err(r) if r.code() == "bad_header" && size > head.len() as u64 => {
                    let all = gloo_file::futures::read_as_bytes(&gf)
                        .await
                        .unwrap_or_default();
                    validate(size, &all)
                }
                other => other,
            };
            match verdict {
                Err(r) => step.set(Step::Refused {
                    code: r.code().into(),
                    message: r.message(),
                    by_server: false,
                }),
                Ok(h) => {
                    let url = gloo_file::ObjectUrl::from(gf);
                    step.set(Step::Preview {
                        url: url.to_string(),
                        name,
                        width: h.width,
                        height: h.height,
                        bytes: size,
                        format: h.format.name(),
                    });
                    picked.set_value(Some(Picked {
                        file,
                        _preview: url,
                        xhr: None,
                    }));
                }
            }
        });
    }

    /// Sends the file with progress; the same rule and a full decode run on the server.
    pub fn upload(
        namespace: &str,
        repository: &str,
        step: RwSignal<Step>,
        current: RwSignal<LogoInfo>,
        picked: StoredValue<Option<Picked>, LocalStorage>,
    ) {
        let Some(file) = picked.with_value(|p| p.as_ref().map(|p| p.file.clone())) else {
            return;
        };
        let fail = move |message: String| {
            step.set(Step::Refused {
                code: "network".into(),
                message,
                by_server: true,
            })
        };
        let (Ok(form), Ok(xhr)) = (web_sys::FormData::new(), web_sys::XmlHttpRequest::new()) else {
            fail("This browser cannot upload files.".into());
            return;
        };
        let _ = form.append_with_str("namespace", namespace);
        let _ = form.append_with_str("repository", repository);
        let _ = form.append_with_blob_and_filename("file", &file, &file.name());
        if xhr.open("POST", "/api/upload_logo").is_err() {
            fail("The upload could not start.".into());
            return;
        }
        let _ = xhr.set_request_header("Accept", "application/json");
        let progress =
            Closure::<dyn FnMut(web_sys::ProgressEvent)>::new(move |e: web_sys::ProgressEvent| {
                if e.length_computable() && e.total() > 0.0 {
                    step.set(Step::Uploading {
                        percent: (e.loaded() / e.total() * 100.0).round() as u32,
                    });
                }
            });
        if let Ok(up) = xhr.upload() {
            up.set_onprogress(Some(progress.as_ref().unchecked_ref()));
        }
        progress.forget();
        let x = xhr.clone();
        let onload = Closure::<dyn FnMut()>::new(move || {
            let status = x.status().unwrap_or(0);
            let body = x.response_text().ok().flatten().unwrap_or_default();
            if status == 200 {
                match crate::wire::from_json::<LogoInfo>(body.as_bytes()) {
                    Ok(info) => {
                        current.set(info);
                        step.set(Step::Closed);
                    }
                    Err(_) => step.set(Step::Refused {
                        code: "server".into(),
                        message: "The server's answer could not be read.".into(),
                        by_server: true,
                    }),
                }
            } else {
                let e = super::server_error(status, &body);
                let code = refused_rule(&body).unwrap_or_else(|| "server".into());
                step.set(Step::Refused {
                    code,
                    message: e.message,
                    by_server: true,
                });
            }
        });
        xhr.set_onload(Some(onload.as_ref().unchecked_ref()));
        onload.forget();
        let onerror = Closure::<dyn FnMut()>::new(move || {
            fail("The upload failed: the connection was lost. Try again.".into())
        });
        xhr.set_onerror(Some(onerror.as_ref().unchecked_ref()));
        onerror.forget();
        step.set(Step::Uploading { percent: 0 });
        if xhr.send_with_opt_form_data(Some(&form)).is_err() {
            fail("The upload could not start.".into());
            return;
        }
        picked.update_value(|p| {
            if let Some(p) = p {
                p.xhr = Some(xhr);
            }
        });
    }

    /// Aborts an upload in flight and forgets the chosen file.
    pub fn cancel(picked: StoredValue<Option<Picked>, LocalStorage>) {
        picked.update_value(|p| {
            if let Some(x) = p.as_ref().and_then(|p| p.xhr.as_ref()) {
                let _ = x.abort();
            }
            *p = None;
        });
    }
}

/// "an organization logo", "a repository logo".
fn with_article(noun: &str) -> String {
    let an = noun.starts_with(['a', 'e', 'i', 'o', 'u']);
    format!("{} {noun}", if an { "an" } else { "a" })
}
