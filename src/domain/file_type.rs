//! The file types an upload may be, and how each is told: by its first
//! bytes, never by the name or type the browser declared (those must only
//! agree with the bytes).

use super::media::MediaKind;

/// The file types an upload may be, told by their first bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileType {
    Mp4,
    M4a,
    WebM,
    Mp3,
    Png,
    Jpeg,
    Webp,
    Pdf,
}

impl FileType {
    pub const ALL: [FileType; 8] = [
        FileType::Mp4,
        FileType::M4a,
        FileType::WebM,
        FileType::Mp3,
        FileType::Png,
        FileType::Jpeg,
        FileType::Webp,
        FileType::Pdf,
    ];

    /// How many leading bytes [`FileType::sniff`] needs.
    pub const SNIFF_LEN: usize = 12;

    /// The type the first bytes of a file show, if it is one we accept.
    pub fn sniff(head: &[u8]) -> Option<FileType> {
        let at =
            |offset: usize, magic: &[u8]| head.get(offset..offset + magic.len()) == Some(magic);
        if at(4, b"ftyp") {
            // The major brand says whether an MP4 container holds audio only.
            return Some(if at(8, b"M4A ") || at(8, b"M4B ") {
                FileType::M4a
            } else {
                FileType::Mp4
            });
        }
        if at(0, &[0x1A, 0x45, 0xDF, 0xA3]) {
            return Some(FileType::WebM);
        }
        if at(0, b"ID3") || matches!(head, [0xFF, 0xFB | 0xF3 | 0xF2, ..]) {
            return Some(FileType::Mp3);
        }
        if at(0, &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
            return Some(FileType::Png);
        }
        if at(0, &[0xFF, 0xD8, 0xFF]) {
            return Some(FileType::Jpeg);
        }
        if at(0, b"RIFF") && at(8, b"WEBP") {
            return Some(FileType::Webp);
        }
        if at(0, b"%PDF-") {
            return Some(FileType::Pdf);
        }
        None
    }

    pub fn content_type(self) -> &'static str {
        match self {
            FileType::Mp4 => "video/mp4",
            FileType::M4a => "audio/mp4",
            FileType::WebM => "video/webm",
            FileType::Mp3 => "audio/mpeg",
            FileType::Png => "image/png",
            FileType::Jpeg => "image/jpeg",
            FileType::Webp => "image/webp",
            FileType::Pdf => "application/pdf",
        }
    }

    pub fn from_content_type(value: &str) -> Option<FileType> {
        FileType::ALL
            .into_iter()
            .find(|t| t.content_type() == value)
    }

    /// The kind an upload becomes when the uploader did not say.
    pub fn default_kind(self) -> MediaKind {
        match self {
            FileType::Mp4 | FileType::WebM => MediaKind::Video,
            FileType::M4a | FileType::Mp3 => MediaKind::Audio,
            FileType::Png | FileType::Jpeg | FileType::Webp => MediaKind::Image,
            FileType::Pdf => MediaKind::Document,
        }
    }

    /// Whether a file name's extension and a declared content type fit these
    /// bytes. Unknown or missing declarations are not held against a file;
    /// a declaration of another accepted type is (a PNG named `.mp4`).
    pub fn agrees_with(self, file_name: Option<&str>, declared: Option<&str>) -> bool {
        let extension_fits = match file_name.and_then(extension) {
            None => true,
            Some(ext) => match extension_type(&ext) {
                Some(types) => types.contains(&self),
                None => false,
            },
        };
        let declared_fits = match declared.map(|d| d.split(';').next().unwrap_or(d).trim()) {
            None | Some("") | Some("application/octet-stream") => true,
            Some(d) => {
                let d = d.to_ascii_lowercase();
                let same_family = self.content_type().split('/').next() == d.split('/').next();
                // Browsers' other names for the types: each is that type.
                let named = match d.as_str() {
                    "audio/webm" => Some(FileType::WebM),
                    "audio/x-m4a" | "audio/m4a" => Some(FileType::M4a),
                    "audio/mp3" => Some(FileType::Mp3),
                    "image/jpg" => Some(FileType::Jpeg),
                    other => FileType::from_content_type(other),
                };
                match named {
                    Some(named) => named == self,
                    // A type guestlink does not know, of the family the bytes are.
                    None => same_family,
                }
            }
        };
        extension_fits && declared_fits
    }
}

fn extension(file_name: &str) -> Option<String> {
    let (_, ext) = file_name.rsplit_once('.')?;
    Some(ext.to_ascii_lowercase())
}

fn extension_type(ext: &str) -> Option<&'static [FileType]> {
    Some(match ext {
        "mp4" | "m4v" => &[FileType::Mp4],
        "m4a" => &[FileType::M4a, FileType::Mp4],
        "webm" => &[FileType::WebM],
        "mp3" => &[FileType::Mp3],
        "png" => &[FileType::Png],
        "jpg" | "jpeg" => &[FileType::Jpeg],
        "webp" => &[FileType::Webp],
        "pdf" => &[FileType::Pdf],
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_told_by_their_first_bytes() {
        let cases: [(&[u8], Option<FileType>); 10] = [
            (b"\0\0\0\x20ftypisom\0\0", Some(FileType::Mp4)),
            (b"\0\0\0\x20ftypM4A \0\0", Some(FileType::M4a)),
            (&[0x1A, 0x45, 0xDF, 0xA3, 1, 2], Some(FileType::WebM)),
            (b"ID3\x04\0\0", Some(FileType::Mp3)),
            (
                &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A],
                Some(FileType::Png),
            ),
            (&[0xFF, 0xD8, 0xFF, 0xE0], Some(FileType::Jpeg)),
            (b"RIFF\x10\0\0\0WEBPVP8 ", Some(FileType::Webp)),
            (b"%PDF-1.7\n", Some(FileType::Pdf)),
            (b"MZ\x90\0\x03\0", None),
            (b"hello", None),
        ];
        for (head, expected) in cases {
            assert_eq!(FileType::sniff(head), expected, "{head:?}");
        }
    }

    #[test]
    fn a_declared_name_or_type_must_fit_the_bytes() {
        assert!(FileType::Png.agrees_with(Some("a.png"), Some("image/png")));
        assert!(FileType::Png.agrees_with(None, None));
        assert!(!FileType::Png.agrees_with(Some("a.mp4"), None));
        assert!(!FileType::Png.agrees_with(Some("a.exe"), None));
        assert!(!FileType::Png.agrees_with(None, Some("video/mp4")));
        assert!(FileType::WebM.agrees_with(Some("talk.webm"), Some("audio/webm")));
    }

    proptest::proptest! {
        #[test]
        fn any_bytes_are_sniffed_without_panicking(head in proptest::collection::vec(proptest::num::u8::ANY, 0..64)) {
            if let Some(found) = FileType::sniff(&head) {
                proptest::prop_assert_eq!(FileType::from_content_type(found.content_type()), Some(found));
            }
        }

        #[test]
        fn each_type_is_told_by_its_first_bytes_whatever_follows(
            which in 0usize..8,
            tail in proptest::collection::vec(proptest::num::u8::ANY, 0..32),
        ) {
            let (magic, expected): (&[u8], FileType) = [
                (&b"\0\0\0\x20ftypisom"[..], FileType::Mp4),
                (&b"\0\0\0\x20ftypM4A "[..], FileType::M4a),
                (&[0x1A, 0x45, 0xDF, 0xA3][..], FileType::WebM),
                (&b"ID3"[..], FileType::Mp3),
                (&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A][..], FileType::Png),
                (&[0xFF, 0xD8, 0xFF][..], FileType::Jpeg),
                (&b"RIFF\0\0\0\0WEBP"[..], FileType::Webp),
                (&b"%PDF-"[..], FileType::Pdf),
            ][which];
            let mut head = magic.to_vec();
            head.extend_from_slice(&tail);
            proptest::prop_assert_eq!(FileType::sniff(&head), Some(expected));
        }
    }

    #[test]
    fn each_type_reads_back_from_its_content_type() {
        for file_type in FileType::ALL {
            assert_eq!(
                FileType::from_content_type(file_type.content_type()),
                Some(file_type)
            );
        }
        for other in ["image/gif", "text/html", "", "IMAGE/PNG", "image/png; x=y"] {
            assert_eq!(FileType::from_content_type(other), None, "{other:?}");
        }
    }

    #[test]
    fn each_type_becomes_a_kind_that_accepts_it() {
        for file_type in FileType::ALL {
            assert!(
                file_type.default_kind().accepts(file_type),
                "{file_type:?} -> {:?}",
                file_type.default_kind()
            );
        }
        assert_eq!(FileType::WebM.default_kind(), MediaKind::Video);
        assert_eq!(FileType::M4a.default_kind(), MediaKind::Audio);
    }

    #[test]
    fn a_head_shorter_than_a_types_magic_is_not_that_type() {
        let cases: [&[u8]; 6] = [
            &[],
            &[0x89, b'P', b'N', b'G'],
            b"%PD",
            &[0xFF, 0xD8],
            b"RIFF\0\0\0\0WEB",
            &[0x1A, 0x45, 0xDF],
        ];
        for head in cases {
            assert_eq!(FileType::sniff(head), None, "{head:?}");
        }
    }

    #[test]
    fn mp3_frames_without_a_tag_and_m4b_audiobooks_are_recognised() {
        assert_eq!(
            FileType::sniff(&[0xFF, 0xFB, 0x90, 0x00]),
            Some(FileType::Mp3)
        );
        assert_eq!(FileType::sniff(&[0xFF, 0xF3, 0x00]), Some(FileType::Mp3));
        assert_eq!(
            FileType::sniff(b"\0\0\0\x20ftypM4B \0\0"),
            Some(FileType::M4a)
        );
    }

    #[test]
    fn a_riff_file_that_is_not_webp_is_refused() {
        assert_eq!(FileType::sniff(b"RIFF\x24\0\0\0WAVEfmt "), None);
        assert_eq!(FileType::sniff(b"RIFF\x24\0\0\0AVI LIST"), None);
    }

    #[test]
    fn extensions_are_compared_without_regard_to_case() {
        assert!(FileType::Png.agrees_with(Some("Photo.PNG"), None));
        assert!(FileType::Jpeg.agrees_with(Some("x.JpEg"), None));
        assert!(FileType::Jpeg.agrees_with(Some("x.jpg"), None));
    }

    #[test]
    fn only_the_last_extension_of_a_name_counts() {
        assert!(FileType::Pdf.agrees_with(Some("report.exe.pdf"), None));
        assert!(!FileType::Pdf.agrees_with(Some("report.pdf.exe"), None));
    }

    #[test]
    fn a_name_without_an_extension_is_not_held_against_a_file() {
        assert!(FileType::Mp4.agrees_with(Some("lecture"), None));
    }

    #[test]
    fn an_m4a_name_fits_audio_or_video_mp4_bytes_but_an_mp4_name_fits_only_video() {
        assert!(FileType::M4a.agrees_with(Some("a.m4a"), None));
        assert!(FileType::Mp4.agrees_with(Some("a.m4a"), None));
        assert!(FileType::Mp4.agrees_with(Some("a.m4v"), None));
        assert!(!FileType::M4a.agrees_with(Some("a.mp4"), None));
    }

    #[test]
    fn declared_types_are_read_without_case_or_parameters() {
        assert!(FileType::Png.agrees_with(None, Some("Image/PNG; charset=binary")));
        assert!(FileType::Pdf.agrees_with(None, Some(" application/pdf ")));
    }

    #[test]
    fn a_generic_or_empty_declared_type_is_not_held_against_a_file() {
        for declared in ["", "application/octet-stream", ";"] {
            assert!(
                FileType::Pdf.agrees_with(None, Some(declared)),
                "{declared:?}"
            );
        }
    }

    #[test]
    fn browsers_common_aliases_fit_the_type_they_name() {
        assert!(FileType::M4a.agrees_with(None, Some("audio/x-m4a")));
        assert!(FileType::M4a.agrees_with(None, Some("audio/m4a")));
        assert!(FileType::Mp3.agrees_with(None, Some("audio/mp3")));
        assert!(FileType::Jpeg.agrees_with(None, Some("image/jpg")));
    }

    #[test]
    fn an_alias_of_another_accepted_type_is_refused_like_the_type_itself() {
        assert!(!FileType::Png.agrees_with(None, Some("image/jpg")));
        assert!(!FileType::M4a.agrees_with(None, Some("audio/mp3")));
    }

    #[test]
    fn an_unknown_declared_type_fits_only_within_the_sniffed_family() {
        assert!(FileType::Mp4.agrees_with(None, Some("video/quicktime")));
        assert!(!FileType::Pdf.agrees_with(None, Some("text/plain")));
        assert!(!FileType::Png.agrees_with(None, Some("application/x-msdownload")));
    }

    #[test]
    fn a_declared_type_of_another_accepted_type_is_refused() {
        assert!(!FileType::Png.agrees_with(None, Some("image/jpeg")));
        assert!(!FileType::Mp3.agrees_with(None, Some("audio/mp4")));
    }

    #[test]
    fn both_the_name_and_the_declared_type_must_fit() {
        assert!(!FileType::Png.agrees_with(Some("a.png"), Some("video/mp4")));
        assert!(!FileType::Png.agrees_with(Some("a.pdf"), Some("image/png")));
    }
}
