//! Config: the example parses, and every bad input gets its one-line message.

use std::path::Path;

use gstvault::config::Config;

fn error_of(text: &str) -> String {
    Config::from_toml(text, "bad.toml", Path::new("/tmp"))
        .unwrap_err()
        .to_string()
}

#[test]
fn example_config_file_parses() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("archive.example.toml");
    let config = Config::load(&path).unwrap();
    assert_eq!(config.gstins[0].gstin.as_str(), "27AAPFU0939F1ZV");
    assert!(config.endpoints.iter().all(|e| e.default_on));
    let shown = config.show();
    assert!(shown.contains("key_env = \"GSTVAULT_API_KEY\""));
}

#[test]
fn bad_configs_name_file_key_and_expectation() {
    let cases = [
        ("[[gstin]]\ngstin = \"27AAPFU0939F1ZW\"\nusername = \"u\"\n", "config bad.toml: gstin[0].gstin: GSTIN \"27AAPFU0939F1ZW\" fails its check character: expected 'V', found 'W'"),
        ("[[gstin]]\ngstin = \"29AAACQ3770E000\"\nusername = \"u\"\n", "config bad.toml: gstin[0].gstin: GSTIN \"29AAACQ3770E000\" does not match the GSTIN pattern"),
        ("[api]\nrate_limit = 5\n", "config bad.toml: line 2, column 1: unknown field `rate_limit`"),
        ("[api]\nconcurrency = \"x\"\n", "config bad.toml: line 2, column 15: invalid type: string \"x\", expected u32"),
        ("[capture]\ngroups = [\"gstr-7\"]\n", "config bad.toml: capture.groups[0]: unknown group \"gstr-7\""),
        ("[capture]\nendpoints = [\"gstr-1-b2z\"]\n", "config bad.toml: capture.endpoints[0]: unknown endpoint \"gstr-1-b2z\""),
        ("[capture]\nendpoints = [\"return-status\"]\n", "config bad.toml: capture.endpoints[0]: return-status needs an identifier"),
        ("[api]\nbase_url = \"ftp://x\"\n", "config bad.toml: api.base_url: \"ftp://x\" must start with http:// or https://"),
        ("[logging]\nformat = \"xml\"\n", "config bad.toml: logging.format: \"xml\" must be \"human\" or \"json\""),
        ("[api\n", "config bad.toml: "),
        (
            "[alerts]\nwebhook = \"hooks.example.com/T0KEN\"\n",
            "config bad.toml: alerts.webhook: is not a URL (relative URL without a base); expected https://host/path (the value is not shown: it may carry a token)",
        ),
        (
            "[alerts]\nsmtp_host = \"smtp.example.com\"\nfrom = \"gstvault@example.com\"\nto = [\"ops.example.com\"]\n",
            "config bad.toml: alerts.to[0]: \"ops.example.com\" is not an e-mail address such as ops@example.com",
        ),
        (
            "[alerts]\nsmtp_host = \"smtp.example.com\"\nsmtp_tls = \"ssl\"\n",
            "config bad.toml: alerts.smtp_tls: \"ssl\" must be \"none\", \"starttls\" or \"tls\"",
        ),
    ];
    for (text, expected) in cases {
        let message = error_of(text);
        assert!(
            message.starts_with(expected),
            "{text:?}\n got: {message}\nwant: {expected}"
        );
        assert!(!message.contains('\n'), "one line: {message}");
        assert!(!message.contains("T0KEN"), "a webhook URL is never repeated: {message}");
    }
}

#[test]
fn missing_environment_variable_is_named() {
    let config = Config::from_toml(
        "[api]\nkey_env = \"GSTVAULT_SURELY_UNSET_KEY\"\n",
        "c.toml",
        Path::new("/tmp"),
    )
    .unwrap();
    let message = config.credentials().unwrap_err().to_string();
    assert_eq!(
        message,
        "environment variable GSTVAULT_SURELY_UNSET_KEY (named by api.key_env in c.toml) is not set"
    );
}

#[test]
fn a_missing_smtp_password_variable_is_named() {
    let config = Config::from_toml(
        "[alerts]\nsmtp_host = \"smtp.example.com\"\nsmtp_username = \"u\"\nsmtp_password_env = \"GSTVAULT_SURELY_UNSET_SMTP\"\n\
         from = \"gstvault@example.com\"\nto = [\"ops@example.com\"]\n",
        "c.toml",
        Path::new("/tmp"),
    )
    .unwrap();
    assert_eq!(
        config.smtp_password().unwrap_err().to_string(),
        "environment variable GSTVAULT_SURELY_UNSET_SMTP (named by alerts.smtp_password_env in c.toml) is not set"
    );
}
