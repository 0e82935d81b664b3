//! Token selection on one synthetic "image" of 14×14 patches: a salient object (distinct,
//! salient patches) on a redundant background (identical, dull patches). Prints the image and the
//! kept mask as text grids so a person can see what was kept.
//! `cargo run --release -p infoprune --example tokens`

use infoprune_core::progress::Silent;
use infoprune_core::tokens::{GridPrior, TokenBudget, TokenConfig, TokenSelector};
use ndarray::{Array2, Array3};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (h, w, d) = (14, 14, 32);
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    // An object: a filled ellipse of distinct patches, a little off centre.
    let inside = |r: usize, c: usize| {
        let (y, x) = (r as f64 - 6.0, c as f64 - 7.5);
        (y / 4.2).powi(2) + (x / 3.6).powi(2) <= 1.0
    };
    let mut features = Array3::<f32>::zeros((1, h * w, d));
    let mut saliency = Array2::<f32>::zeros((1, h * w));
    for r in 0..h {
        for c in 0..w {
            let p = r * w + c;
            for j in 0..d {
                features[[0, p, j]] = if inside(r, c) {
                    rng.random_range(-1.0f32..1.0)
                } else {
                    // Background: the same patch everywhere, up to a faint texture.
                    (if j == 0 { 1.0 } else { 0.0 }) + rng.random_range(-0.01f32..0.01)
                };
            }
            saliency[[0, p]] = if inside(r, c) {
                rng.random_range(0.5f32..1.0)
            } else {
                rng.random_range(0.0f32..0.45)
            };
        }
    }
    let mut config = TokenConfig::new(TokenBudget::Ratio(0.25));
    config.grid = Some(GridPrior {
        height: h,
        width: w,
        weight: 0.1,
    });
    let selection =
        TokenSelector::new(config)?.select(features.view(), saliency.view(), &Silent)?;
    println!("image (O = object patch, . = background)      kept (# = kept)");
    for r in 0..h {
        let image: String = (0..w)
            .map(|c| if inside(r, c) { 'O' } else { '.' })
            .collect();
        let kept: String = (0..w)
            .map(|c| {
                if selection.mask[[0, r * w + c]] == 1 {
                    '#'
                } else {
                    '.'
                }
            })
            .collect();
        println!("{image}                                {kept}");
    }
    let object = (0..h * w).filter(|&p| inside(p / w, p % w)).count();
    let kept_object = (0..h * w)
        .filter(|&p| selection.mask[[0, p]] == 1 && inside(p / w, p % w))
        .count();
    println!(
        "\nkept {} of {} patches: {kept_object} of the {object} object patches, {} background",
        selection.kept_per_sample,
        h * w,
        selection.kept_per_sample - kept_object
    );
    Ok(())
}
