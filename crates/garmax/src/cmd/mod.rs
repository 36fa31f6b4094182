//! One module per subcommand.

pub mod analyze;
pub mod models;

/// Renders an error chain for the terminal, led by its error code when one of
/// the workspace's coded errors is in the chain.
pub fn describe(err: &anyhow::Error) -> String {
    let chain: Vec<String> = err.chain().map(|e| e.to_string()).collect();
    match code_of(err) {
        Some(code) => format!("[{code}] {}", chain.join(": ")),
        None => chain.join(": "),
    }
}

fn code_of(err: &anyhow::Error) -> Option<garmax_core::ErrorCode> {
    use garmax_core::Coded;
    for cause in err.chain() {
        if let Some(e) = cause.downcast_ref::<garmax_vision::ImageError>() {
            return Some(e.code());
        }
        if let Some(e) = cause.downcast_ref::<garmax_assets::AssetError>() {
            return Some(e.code());
        }
    }
    None
}
