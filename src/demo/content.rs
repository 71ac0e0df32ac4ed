//! Sample media for the demo courses, so `guestlink demo` has something to
//! play, show and share from the first launch. The files are small and
//! compiled in: a six-second WebM (VP9 + Opus, which Debian's Chromium
//! plays), a PNG and a one-page PDF.

use std::path::Path;

use crate::domain::ids::CourseId;
use crate::domain::media::{FileType, MediaId, NewMedia, Source, StoredFile};
use crate::domain::platform::Lms;
use crate::store::media::{self, Placement};
use crate::store::{Conn, StoreError, StoreResult, launches, platforms};

use super::claims;
use crate::domain::time::{Duration, Timestamp};

const LECTURE: &[u8] = include_bytes!("assets/lecture.webm");
const SLIDE: &[u8] = include_bytes!("assets/slide.png");
const SYLLABUS: &[u8] = include_bytes!("assets/syllabus.pdf");

struct Sample {
    title: &'static str,
    description: &'static str,
    file: Option<(&'static [u8], FileType, &'static str)>,
    kind: &'static str,
}

const SAMPLES: [Sample; 4] = [
    Sample {
        title: "Office hours",
        description: "A weekly room for questions. Guests can be invited to it too.",
        file: None,
        kind: "room",
    },
    Sample {
        title: "Course syllabus",
        description: "Topics and reading for the first three weeks.",
        file: Some((SYLLABUS, FileType::Pdf, "syllabus.pdf")),
        kind: "document",
    },
    Sample {
        title: "Microscope calibration slide",
        description: "The colour chart used to calibrate the lab microscopes' cameras.",
        file: Some((SLIDE, FileType::Png, "calibration-slide.png")),
        kind: "image",
    },
    Sample {
        title: "Welcome to Biology 101",
        description: "A six-second test recording: the first lecture will appear here.",
        file: Some((LECTURE, FileType::WebM, "welcome.webm")),
        kind: "video",
    },
];

/// Gives a demo course its samples, once: a course that ever had media
/// (even if all was deleted since) is left as it is.
pub fn seed_course(
    conn: &mut Conn,
    dir: &Path,
    issuer: &str,
    client_id: &str,
    lms: Lms,
    now: Timestamp,
) -> StoreResult<()> {
    let failed = |what: String| StoreError::Other(anyhow::anyhow!(what));
    let platform = platforms::find_by_issuer(conn, issuer)?
        .into_iter()
        .find(|p| p.client_id == client_id)
        .ok_or(StoreError::NotFound)?;
    let course = CourseId(launches::ensure_course(
        conn,
        platform.id,
        &claims::course_context_id(lms),
        Some(claims::COURSE_LABEL),
        Some(&claims::course_title(lms)),
        now,
    )?);
    if media::course_has_history(conn, course)? {
        return Ok(());
    }
    std::fs::create_dir_all(dir)
        .map_err(|e| failed(format!("cannot create {}: {e}", dir.display())))?;
    let placement = Placement {
        platform_id: platform.id,
        course_id: course,
        owner_id: None,
    };
    // Oldest first, so the library (newest first) starts with the video.
    for (age, sample) in SAMPLES.iter().enumerate() {
        let id = MediaId::generate();
        let source = match sample.file {
            Some((bytes, file_type, name)) => {
                std::fs::write(dir.join(id.as_str()), bytes)
                    .map_err(|e| failed(format!("cannot write a demo file: {e}")))?;
                Source::File(StoredFile {
                    name: id.to_string(),
                    file_type,
                    size: bytes.len() as u64,
                    original_name: Some(name.to_string()),
                })
            }
            None => Source::None,
        };
        let new = NewMedia {
            kind: sample.kind.parse().map_err(|e| failed(format!("{e}")))?,
            title: sample.title.to_string(),
            description: sample.description.to_string(),
            source,
        };
        let created = now - Duration::minutes((SAMPLES.len() - age) as i64);
        media::insert(conn, &id, &placement, &new, created)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_samples_are_the_types_they_claim() {
        for sample in &SAMPLES {
            if let Some((bytes, file_type, _)) = sample.file {
                assert_eq!(FileType::sniff(bytes), Some(file_type), "{}", sample.title);
                let kind: crate::domain::media::MediaKind = sample.kind.parse().unwrap();
                assert!(kind.accepts(file_type), "{}", sample.title);
            }
        }
    }
}
