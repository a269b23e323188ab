//! The web view's HTML templates (`templates/web/*.html`, built into the
//! binary) and the one environment that renders them: minijinja with
//! autoescaping on, so nothing from the archive (a legal name, a document
//! number) can become markup. Figures reach the templates already written
//! for people (rupees with Indian grouping, IST times).

use minijinja::{Environment, Value};

const TEMPLATES: [(&str, &str); 12] = [
    ("table.html", include_str!("../../templates/web/table.html")),
    ("base.html", include_str!("../../templates/web/base.html")),
    ("login.html", include_str!("../../templates/web/login.html")),
    ("error.html", include_str!("../../templates/web/error.html")),
    ("overview.html", include_str!("../../templates/web/overview.html")),
    ("gstin.html", include_str!("../../templates/web/gstin.html")),
    ("return.html", include_str!("../../templates/web/return.html")),
    ("changes.html", include_str!("../../templates/web/changes.html")),
    ("snapshot.html", include_str!("../../templates/web/snapshot.html")),
    ("bundles.html", include_str!("../../templates/web/bundles.html")),
    ("access.html", include_str!("../../templates/web/access.html")),
    ("nav.html", include_str!("../../templates/web/nav.html")),
];

/// The stylesheet, served at `/static/style.css` (the CSP allows styles from
/// the page's own origin only).
pub const STYLESHEET: &str = include_str!("../../templates/web/style.css");

pub struct Templates(Environment<'static>);

impl Templates {
    pub fn new() -> Templates {
        Templates::with_banner(false)
    }

    /// With `simulated`, every page carries the simulated-data banner.
    pub fn with_banner(simulated: bool) -> Templates {
        let mut env = Environment::new();
        env.add_global("simulated", simulated);
        for (name, text) in TEMPLATES {
            env.add_template(name, text)
                .expect("the built-in templates parse (tested)");
        }
        Templates(env)
    }

    /// Renders `name`; a template error is a bug, shown as a plain page.
    pub fn render(&self, name: &str, context: Value) -> String {
        self.0
            .get_template(name)
            .and_then(|t| t.render(context))
            .unwrap_or_else(|e| {
                tracing::error!("template {name}: {e}");
                error_page(500, "This page could not be drawn.")
            })
    }
}

impl Default for Templates {
    fn default() -> Self {
        Templates::new()
    }
}

/// An error page, from its own template (autoescaped).
pub fn error_page(status: u16, message: &str) -> String {
    Templates::new().render(
        "error.html",
        minijinja::context! { status => status, message => message },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_parses_and_escapes() {
        let t = Templates::new();
        let html = t.render(
            "error.html",
            minijinja::context! { status => 404, message => "<script>x</script>" },
        );
        assert!(html.contains("&lt;script&gt;"), "{html}");
        assert!(!html.contains("<script>"), "{html}");
    }
}
