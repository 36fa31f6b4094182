//! Credit costs (the seed's price list).

/// Credits a render of `quality` (`sd`, `hd`, `4k`) costs, or `None` for an
/// unknown quality.
pub fn render_cost(quality: &str) -> Option<i64> {
    match quality {
        "sd" => Some(10),
        "hd" => Some(15),
        "4k" => Some(25),
        _ => None,
    }
}

/// Credits creating an avatar costs (charged once billing lands).
pub const AVATAR_COST: i64 = 5;

#[cfg(test)]
mod tests {
    #[test]
    fn the_seeds_prices() {
        assert_eq!(super::render_cost("sd"), Some(10));
        assert_eq!(super::render_cost("hd"), Some(15));
        assert_eq!(super::render_cost("4k"), Some(25));
        assert_eq!(super::render_cost("8k"), None);
    }
}
