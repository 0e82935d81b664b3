//! The text side of token-level selection (SPEC §5): each sample's caption, extended with the
//! classes detected in it through a template the user can override.

use crate::error::{Error, Result};
use crate::npy::{self, Overwrite};
use ndarray::ArrayView2;
use serde_json::Value;
use std::path::Path;

/// The default template.
pub const DEFAULT_TEMPLATE: &str = "{caption} Contains: {classes}.";

/// Captions read from a file: JSONL (objects with a string `"caption"`, other fields kept, or one
/// JSON string per line) or plain text (one caption per line).
#[derive(Debug, Clone, PartialEq)]
pub struct Captions {
    captions: Vec<String>,
    /// The JSON object of each line, for JSONL objects (kept when writing).
    objects: Vec<Option<serde_json::Map<String, Value>>>,
}

impl Captions {
    /// Reads `path`; a file whose first non-empty line starts with `{` or `"` is JSONL.
    pub fn read(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::Usage(format!("{}: cannot read captions: {e}", path.display())))?;
        Self::parse(path, &text)
    }

    /// Parses the text of a captions file; `path` names it in errors.
    pub fn parse(path: &Path, text: &str) -> Result<Self> {
        let lines: Vec<&str> = text.lines().map(|l| l.trim_end_matches('\r')).collect();
        let jsonl = lines
            .iter()
            .find(|l| !l.trim().is_empty())
            .is_some_and(|l| l.trim_start().starts_with(['{', '"']));
        let mut captions = Vec::with_capacity(lines.len());
        let mut objects = Vec::with_capacity(lines.len());
        for (number, line) in lines.iter().enumerate() {
            if !jsonl {
                captions.push(line.to_string());
                objects.push(None);
                continue;
            }
            let bad =
                |why: &str| Error::Usage(format!("{}: line {}: {why}", path.display(), number + 1));
            if line.trim().is_empty() {
                return Err(bad("is empty"));
            }
            match serde_json::from_str::<Value>(line) {
                Ok(Value::String(s)) => {
                    captions.push(s);
                    objects.push(None);
                }
                Ok(Value::Object(map)) => match map.get("caption") {
                    Some(Value::String(s)) => {
                        captions.push(s.clone());
                        objects.push(Some(map));
                    }
                    _ => return Err(bad("is an object without a string \"caption\"")),
                },
                Ok(_) => return Err(bad("is neither a JSON object nor a string")),
                Err(e) => return Err(bad(&format!("is not valid JSON ({e})"))),
            }
        }
        Ok(Self { captions, objects })
    }

    /// Number of captions.
    pub fn len(&self) -> usize {
        self.captions.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.captions.is_empty()
    }

    /// The captions.
    pub fn captions(&self) -> &[String] {
        &self.captions
    }
}

/// Arbitrary bytes through the captions parser and the JSONL writer, as the fuzz target and its
/// replay test run them: any answer is fine, a panic is not. Returns how many captions parsed.
#[doc(hidden)]
pub fn exercise_captions(bytes: &[u8]) -> usize {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return 0;
    };
    match Captions::parse(Path::new("fuzz.jsonl"), text) {
        Ok(captions) => {
            let extended: Vec<String> = captions
                .captions()
                .iter()
                .map(|c| extend_caption(DEFAULT_TEMPLATE, c, &["x".into()]).unwrap_or_default())
                .collect();
            let jsonl = extended_jsonl(&captions, &extended);
            assert_eq!(jsonl.lines().count(), captions.len());
            captions.len()
        }
        Err(_) => 0,
    }
}

/// Class names, one per line (trailing whitespace trimmed; an empty name is an error).
pub fn read_class_names(path: &Path) -> Result<Vec<String>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::Usage(format!("{}: cannot read class names: {e}", path.display())))?;
    text.lines()
        .enumerate()
        .map(|(i, l)| {
            let name = l.trim_end();
            if name.is_empty() {
                Err(Error::Usage(format!(
                    "{}: line {} has an empty class name",
                    path.display(),
                    i + 1
                )))
            } else {
                Ok(name.to_string())
            }
        })
        .collect()
}

/// Per sample, the names of the classes with probability `≥ threshold`, by probability
/// descending (ties: smaller class index).
pub fn detected_classes(
    probs: ArrayView2<f32>,
    names: &[String],
    threshold: f32,
) -> Result<Vec<Vec<String>>> {
    if names.len() != probs.ncols() {
        return Err(Error::Usage(format!(
            "{} class names for {} class probability columns",
            names.len(),
            probs.ncols()
        )));
    }
    if !(0.0..=1.0).contains(&threshold) {
        return Err(Error::Usage(format!(
            "--threshold must be in [0, 1], found {threshold}"
        )));
    }
    probs
        .rows()
        .into_iter()
        .enumerate()
        .map(|(i, row)| {
            if let Some(c) = row.iter().position(|p| !p.is_finite()) {
                return Err(Error::Usage(format!(
                    "class probability of sample {i}, class {c} is not finite"
                )));
            }
            let mut hits: Vec<usize> = (0..row.len()).filter(|&c| row[c] >= threshold).collect();
            hits.sort_by(|&a, &b| row[b].total_cmp(&row[a]).then(a.cmp(&b)));
            Ok(hits.into_iter().map(|c| names[c].clone()).collect())
        })
        .collect()
}

/// `{caption}` → the caption, `{classes}` → the names joined by `", "`; a caption with no
/// detected class stays as it is.
pub fn extend_caption(template: &str, caption: &str, classes: &[String]) -> Result<String> {
    if !template.contains("{caption}") {
        return Err(Error::Usage(format!(
            "the caption template must contain {{caption}}, found '{template}'"
        )));
    }
    if classes.is_empty() {
        return Ok(caption.to_string());
    }
    Ok(template
        .replace("{classes}", &classes.join(", "))
        .replace("{caption}", caption))
}

/// Writes the extended captions as JSONL (input objects keep their other fields), atomically.
pub fn write_extended(
    path: &Path,
    captions: &Captions,
    extended: &[String],
    overwrite: Overwrite,
) -> Result<()> {
    npy::write_atomic(
        path,
        extended_jsonl(captions, extended).as_bytes(),
        overwrite,
    )?;
    Ok(())
}

/// The JSONL text [`write_extended`] writes.
pub fn extended_jsonl(captions: &Captions, extended: &[String]) -> String {
    let mut out = String::new();
    for (object, caption) in captions.objects.iter().zip(extended) {
        let line = match object {
            Some(map) => {
                let mut map = map.clone();
                map.insert("caption".into(), Value::String(caption.clone()));
                Value::Object(map)
            }
            None => serde_json::json!({ "caption": caption }),
        };
        out.push_str(&line.to_string());
        out.push('\n');
    }
    out
}

/// Reads captions, class probabilities (`n × C`) and names, extends every caption and writes
/// JSONL to `out`; returns how many captions gained classes.
pub fn extend_captions_file(
    captions_in: &Path,
    probs: &Path,
    names: &Path,
    threshold: f32,
    template: &str,
    out: &Path,
    overwrite: Overwrite,
) -> Result<usize> {
    let (jsonl, count) = extended_captions(captions_in, probs, names, threshold, template)?;
    npy::write_atomic(out, jsonl.as_bytes(), overwrite)?;
    Ok(count)
}

/// Everything [`extend_captions_file`] does but the writing: reads and checks the captions, class
/// probabilities and names, and returns the JSONL to write and how many captions gained classes.
/// Nothing is written, so a command can check these inputs before any of its work.
pub fn extended_captions(
    captions_in: &Path,
    probs: &Path,
    names: &Path,
    threshold: f32,
    template: &str,
) -> Result<(String, usize)> {
    // Checked here too, so that a bad template is refused even when no caption gains a class.
    extend_caption(template, "", &[])?;
    let captions = Captions::read(captions_in)?;
    let probs = npy::read_f32_matrix(probs)?;
    if probs.nrows() != captions.len() {
        return Err(Error::Usage(format!(
            "{} captions but {} rows of class probabilities",
            captions.len(),
            probs.nrows()
        )));
    }
    let names = read_class_names(names)?;
    let detected = detected_classes(probs.view(), &names, threshold)?;
    let extended = captions
        .captions
        .iter()
        .zip(&detected)
        .map(|(c, d)| extend_caption(template, c, d))
        .collect::<Result<Vec<_>>>()?;
    Ok((
        extended_jsonl(&captions, &extended),
        detected.iter().filter(|d| !d.is_empty()).count(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn files(
        dir: &Path,
        captions: &str,
    ) -> (std::path::PathBuf, std::path::PathBuf, std::path::PathBuf) {
        let c = dir.join("in.jsonl");
        std::fs::write(&c, captions).unwrap();
        let p = dir.join("p.npy");
        let probs = array![
            [0.9f32, 0.2, 0.6, 0.6],
            [0.1, 0.3, 0.2, 0.4],
            [0.5, 0.5, 0.7, 0.0]
        ];
        npy::write_f32_matrix(&p, probs.view(), Overwrite::Refuse).unwrap();
        let n = dir.join("names.txt");
        std::fs::write(&n, "cat\ndog\nbird\ncar\n").unwrap();
        (c, p, n)
    }

    #[test]
    fn template_output_is_exact() {
        let dir = tempfile::tempdir().unwrap();
        let (c, p, n) = files(
            dir.path(),
            "{\"id\": 1, \"caption\": \"A photo.\"}\n\"Nothing here\"\n{\"caption\": \"Two animals\", \"lang\": \"en\"}\n",
        );
        let out = dir.path().join("out.jsonl");
        let extended =
            extend_captions_file(&c, &p, &n, 0.5, DEFAULT_TEMPLATE, &out, Overwrite::Refuse)
                .unwrap();
        assert_eq!(extended, 2);
        let text = std::fs::read_to_string(&out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        // Ties (bird and car at 0.6; cat and dog at 0.5) go to the smaller class index.
        assert_eq!(
            lines[0],
            r#"{"caption":"A photo. Contains: cat, bird, car.","id":1}"#
        );
        assert_eq!(lines[1], r#"{"caption":"Nothing here"}"#);
        assert_eq!(
            lines[2],
            r#"{"caption":"Two animals Contains: bird, cat, dog.","lang":"en"}"#
        );
        // Plain text and a custom template.
        std::fs::write(&c, "first\nsecond\nthird\n").unwrap();
        let out2 = dir.path().join("out2.jsonl");
        extend_captions_file(
            &c,
            &p,
            &n,
            0.65,
            "[{classes}] {caption}",
            &out2,
            Overwrite::Refuse,
        )
        .unwrap();
        let text = std::fs::read_to_string(&out2).unwrap();
        assert_eq!(
            text,
            "{\"caption\":\"[cat] first\"}\n{\"caption\":\"second\"}\n{\"caption\":\"[bird] third\"}\n"
        );
        // Existing output is refused.
        assert!(
            extend_captions_file(&c, &p, &n, 0.5, DEFAULT_TEMPLATE, &out2, Overwrite::Refuse)
                .is_err()
        );
    }

    #[test]
    fn bad_text_input_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let (c, p, n) = files(dir.path(), "a\nb\n");
        let out = dir.path().join("o.jsonl");
        let err = |r: Result<usize>| r.unwrap_err().to_string();
        assert!(err(extend_captions_file(
            &c,
            &p,
            &n,
            0.5,
            DEFAULT_TEMPLATE,
            &out,
            Overwrite::Refuse
        ))
        .contains("2 captions but 3 rows"));
        std::fs::write(&c, "a\nb\nc\n").unwrap();
        assert!(err(extend_captions_file(
            &c,
            &p,
            &n,
            1.5,
            DEFAULT_TEMPLATE,
            &out,
            Overwrite::Refuse
        ))
        .contains("[0, 1]"));
        assert!(err(extend_captions_file(
            &c,
            &p,
            &n,
            0.5,
            "{classes}",
            &out,
            Overwrite::Refuse
        ))
        .contains("{caption}"));
        std::fs::write(&n, "cat\ndog\nbird\n").unwrap();
        assert!(err(extend_captions_file(
            &c,
            &p,
            &n,
            0.5,
            DEFAULT_TEMPLATE,
            &out,
            Overwrite::Refuse
        ))
        .contains("3 class names for 4"));
        std::fs::write(&n, "cat\n\nbird\ncar\n").unwrap();
        assert!(err(extend_captions_file(
            &c,
            &p,
            &n,
            0.5,
            DEFAULT_TEMPLATE,
            &out,
            Overwrite::Refuse
        ))
        .contains("line 2"));
        std::fs::write(&c, "{\"caption\": \"ok\"}\n{broken\n\"x\"\n").unwrap();
        assert!(err(extend_captions_file(
            &c,
            &p,
            &n,
            0.5,
            DEFAULT_TEMPLATE,
            &out,
            Overwrite::Refuse
        ))
        .contains("line 2"));
        assert!(!out.exists());
    }
}
