//! JSON forms of the core's search types for plans and part outcomes (serde's remote derive: the
//! core crate carries no serde).

use infoprune_core::ivf::{IvfSettings, Recall, ResolvedSearch, SearchInfo};
use serde::{Deserialize, Serialize};

/// [`IvfSettings`] as JSON.
#[derive(Serialize, Deserialize)]
#[serde(remote = "IvfSettings")]
pub(crate) struct IvfSettingsDef {
    nlist: usize,
    nprobe: usize,
    train_iterations: usize,
    recall_sample: usize,
    seed: u64,
}

/// [`Recall`] as JSON.
#[derive(Serialize, Deserialize)]
#[serde(remote = "Recall")]
struct RecallDef {
    sampled: usize,
    expected: usize,
    found: usize,
    recall: f64,
}

/// [`ResolvedSearch`] as JSON: `"exact"` or `{"ivf": {…}}`.
#[derive(Serialize, Deserialize)]
#[serde(remote = "ResolvedSearch", rename_all = "lowercase")]
enum ResolvedSearchDef {
    Exact,
    Ivf(#[serde(with = "IvfSettingsDef")] IvfSettings),
}

/// [`SearchInfo`] as JSON.
#[derive(Serialize, Deserialize)]
#[serde(remote = "SearchInfo")]
struct SearchInfoDef {
    #[serde(with = "ResolvedSearchDef")]
    search: ResolvedSearch,
    #[serde(with = "option_recall")]
    recall: Option<Recall>,
}

/// `#[serde(with = …)]` for an `Option` of a type with a remote definition.
macro_rules! option_of {
    ($module:ident, $ty:ty, $def:literal) => {
        #[doc = concat!("`Option<", stringify!($ty), ">` as JSON (`null` for `None`).")]
        pub(crate) mod $module {
            use super::*;
            use serde::{Deserializer, Serializer};

            #[derive(Serialize, Deserialize)]
            struct Wrap(#[serde(with = $def)] $ty);

            pub(crate) fn serialize<S: Serializer>(
                value: &Option<$ty>,
                s: S,
            ) -> Result<S::Ok, S::Error> {
                value.map(Wrap).serialize(s)
            }

            pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
                d: D,
            ) -> Result<Option<$ty>, D::Error> {
                Ok(Option::<Wrap>::deserialize(d)?.map(|Wrap(v)| v))
            }
        }
    };
}

option_of!(option_recall, Recall, "RecallDef");
option_of!(option_ivf_settings, IvfSettings, "IvfSettingsDef");
option_of!(option_search_info, SearchInfo, "SearchInfoDef");
