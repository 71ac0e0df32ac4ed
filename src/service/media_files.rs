//! Who may fetch an item's file, and the URLs pages give their players.
//!
//! A `<video>` element cannot send a Bearer token and, inside an LMS iframe,
//! often has no cookie, so a page gets a URL carrying a grant: a token for one
//! item, made for that page load and bound to its viewer's session (a
//! member's launch session, or a guest's session, whose cookie the guest's
//! URLs under `/g/{token}/` also need). The token is sealed around the item,
//! the session and its time, so a page load writes nothing; the grant is
//! stored when its URL is first used. When the session ends, so do its
//! URLs. How long a grant serves is `domain::file_access`'s rule: a short
//! start window, then only while the stream's requests (and the page's
//! renewals, which vouch for the stream it plays) keep coming.
//!
//! Only a hash of each grant is stored, and the key that seals them is not
//! in the database, so the database cannot mint URLs.

use std::path::PathBuf;

use super::Tool;
use super::failure::{Failure, Fault, Kind};
use super::media::{MediaError, media_dir};
use crate::crypto::{Sealer, hash_secret, hex, hex_decode, is_base64url_of_length};
use crate::domain::file_access::GrantTimes;
use crate::domain::media::{Media, MediaId};
use crate::domain::session::LaunchSession;
use crate::domain::time::Timestamp;
use crate::store::file_grants::{self, Grant, GuestLinkOf, Holder};
use crate::store::media as store;

/// A file URL and until when it may start a download or stream.
#[derive(Clone, Debug)]
pub struct FileUrl {
    pub url: String,
    pub expires_at: Timestamp,
}

/// The grant of a file URL's query.
#[derive(Clone, Debug, Default, serde::Deserialize)]
pub struct GrantQuery {
    pub grant: Option<String>,
}

/// Why a file or a file URL was refused.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// No such item the asker may see, or it has no file to serve.
    #[error("There is no such file.")]
    NotFound,
    #[error("This item has no uploaded file.")]
    NoFile,
    /// A grant that is unknown, another viewer's, or whose session ended:
    /// the same refusal whichever, so a stranger learns nothing.
    #[error("This media address does not work here; reload the page it came from.")]
    UrlInvalid,
    #[error("This media address has expired; reload the page.")]
    UrlExpired,
    #[error(transparent)]
    Media(MediaError),
    #[error(transparent)]
    Fault(#[from] Fault),
}

crate::faults_from_store!(FileError);

impl From<MediaError> for FileError {
    fn from(err: MediaError) -> Self {
        match err {
            MediaError::Fault(f) => FileError::Fault(f),
            other => FileError::Media(other),
        }
    }
}

impl Failure for FileError {
    fn code(&self) -> &'static str {
        match self {
            FileError::NotFound => "not_found",
            FileError::NoFile => "no_file",
            FileError::UrlInvalid => "file_url_invalid",
            FileError::UrlExpired => "file_url_expired",
            FileError::Media(e) => e.code(),
            FileError::Fault(f) => f.code(),
        }
    }

    fn kind(&self) -> Kind {
        match self {
            FileError::NotFound | FileError::NoFile => Kind::NotFound,
            FileError::UrlInvalid | FileError::UrlExpired => Kind::Forbidden,
            FileError::Media(e) => e.kind(),
            FileError::Fault(f) => f.kind(),
        }
    }

    fn field(&self) -> Option<crate::domain::field::Field> {
        match self {
            FileError::Media(e) => e.field(),
            _ => None,
        }
    }

    fn message(&self) -> String {
        match self {
            FileError::Media(e) => e.message(),
            other => other.to_string(),
        }
    }
}

type FileResult<T> = Result<T, FileError>;

/// What a grant's token is sealed for: its item, its holder and when it was
/// made travel in the token itself, so that a page load writes nothing; the
/// grant's row is made when its URL is first used.
const GRANT_CONTEXT: &str = "guestlink file grant v1";

/// A grant as its token carries it, before its first use.
#[derive(Debug, PartialEq)]
struct Minted {
    media_id: MediaId,
    holder: Holder,
    issued_at: Timestamp,
}

/// Issue time, holder kind and holder hash come first; the item id fills the rest.
const MINTED_HEAD: usize = 8 + 1 + 32;

fn mint(sealer: &Sealer, media: &MediaId, holder: &Holder, now: Timestamp) -> String {
    let (kind, hash) = match holder {
        Holder::Member(hash) => (b'm', hash),
        Holder::Guest(hash) => (b'g', hash),
    };
    let mut plain = Vec::with_capacity(MINTED_HEAD + media.as_str().len());
    plain.extend_from_slice(&now.unix().to_be_bytes());
    plain.push(kind);
    plain.extend(hex_decode(hash).expect("session hashes are hex SHA-256"));
    plain.extend_from_slice(media.as_str().as_bytes());
    sealer.seal_token(GRANT_CONTEXT, &plain)
}

fn open_minted(sealer: &Sealer, raw: &str) -> Option<Minted> {
    let plain = sealer.open_token(GRANT_CONTEXT, raw).ok()?;
    if plain.len() <= MINTED_HEAD {
        return None;
    }
    let issued_at = Timestamp::from_unix(i64::from_be_bytes(plain[..8].try_into().ok()?));
    let hash = hex(&plain[9..MINTED_HEAD]);
    let holder = match plain[8] {
        b'm' => Holder::Member(hash),
        b'g' => Holder::Guest(hash),
        _ => return None,
    };
    let media_id = MediaId::parse(std::str::from_utf8(&plain[MINTED_HEAD..]).ok()?)?;
    Some(Minted {
        media_id,
        holder,
        issued_at,
    })
}

/// Sealed tokens are longer than random ones: a nonce, the grant and a tag.
fn is_grant_shaped(raw: &str) -> bool {
    is_base64url_of_length(raw, 16..=200)
}

/// Makes a grant for `media` held by `holder`, served under `path`.
fn issue(tool: &Tool, media: &MediaId, holder: Holder, path: String) -> FileUrl {
    let now = tool.clock.now();
    let times = GrantTimes::new(now, tool.settings.media.url_start_window);
    let grant = mint(&tool.sealer, media, &holder, now);
    FileUrl {
        url: tool
            .settings
            .server
            .public_url
            .join(&format!("{path}?grant={grant}")),
        expires_at: times.starts_until,
    }
}

/// The file URL for a member's page, or None if the item has no file. It is
/// minted, not stored: a page load writes nothing.
pub fn url_for_member(tool: &Tool, media: &Media, session_token: &str) -> Option<FileUrl> {
    url_for_member_session(tool, media, &hash_secret(session_token))
}

/// The same for the session whose hash is `session_hash` (a room's stream
/// knows its session by the hash alone).
pub fn url_for_member_session(tool: &Tool, media: &Media, session_hash: &str) -> Option<FileUrl> {
    media.file()?;
    let holder = Holder::Member(session_hash.to_string());
    let path = format!("/media/{}/file", media.id);
    Some(issue(tool, &media.id, holder, path))
}

/// The file URL for a guest's page (under their link, where their cookie
/// goes), or None if the item has no file.
pub fn url_for_guest(
    tool: &Tool,
    media: &Media,
    link_token: &str,
    guest_session_hash: &str,
) -> Option<FileUrl> {
    media.file()?;
    let holder = Holder::Guest(guest_session_hash.to_string());
    let path = format!("/g/{link_token}/file");
    Some(issue(tool, &media.id, holder, path))
}

/// The grant behind `raw` (with its hash), if its session lives and `held`
/// accepts its holder.
async fn held_grant(
    tool: &Tool,
    raw: &str,
    held: impl FnOnce(&Holder, Option<&GuestLinkOf>) -> bool,
) -> FileResult<(String, Grant)> {
    if !is_grant_shaped(raw) {
        return Err(FileError::UrlInvalid);
    }
    let hash = hash_secret(raw);
    let now = tool.clock.now();
    let key = hash.clone();
    let mut found = tool
        .db
        .read(move |conn| file_grants::find(conn, &key, now))
        .await?;
    if found.is_none() {
        found = first_use(tool, raw, &hash, now).await?;
    }
    let grant = found
        .filter(|g| g.session_alive && held(&g.holder, g.link.as_ref()))
        .ok_or(FileError::UrlInvalid)?;
    Ok((hash, grant))
}

/// The row of a grant used for the first time, made from its token; None
/// if the token is not one this tool sealed or its holder's session is gone.
async fn first_use(
    tool: &Tool,
    raw: &str,
    hash: &str,
    now: Timestamp,
) -> FileResult<Option<Grant>> {
    let minted = open_minted(&tool.sealer, raw).ok_or(FileError::UrlInvalid)?;
    let times = GrantTimes::new(minted.issued_at, tool.settings.media.url_start_window);
    if now >= times.ends_at {
        return Err(FileError::UrlExpired);
    }
    let hash = hash.to_string();
    Ok(tool
        .db
        .write(move |conn| {
            file_grants::insert(conn, &hash, &minted.media_id, &minted.holder, now, times)?;
            file_grants::find(conn, &hash, now)
        })
        .await?)
}

/// Records a grant's use when it is due (a write at most every half minute).
async fn touch(tool: &Tool, hash: String, grant: &Grant) -> FileResult<()> {
    let now = tool.clock.now();
    if grant.times.needs_touch(now) {
        tool.db
            .write(move |conn| file_grants::touch(conn, &hash, now))
            .await?;
    }
    Ok(())
}

/// Renews the page's grant `raw` in place (the renewal vouches for the
/// stream it plays, and the player keeps its URL), or, once the grant has
/// ended, None: the page then needs a new one.
async fn renew(
    tool: &Tool,
    raw: &str,
    hash: String,
    grant: &Grant,
    path: &str,
) -> FileResult<Option<FileUrl>> {
    let now = tool.clock.now();
    let Some(times) = grant
        .times
        .renewed(now, tool.settings.media.url_start_window)
    else {
        return Ok(None);
    };
    tool.db
        .write(move |conn| file_grants::renew(conn, &hash, now, times.starts_until))
        .await?;
    Ok(Some(FileUrl {
        url: tool
            .settings
            .server
            .public_url
            .join(&format!("{path}?grant={raw}")),
        expires_at: times.starts_until,
    }))
}

/// The URL for a member's page whose player holds `old`: that one renewed,
/// or a new one when it has ended or the page has none.
pub async fn renew_for_member(
    tool: &Tool,
    session: &LaunchSession,
    session_token: &str,
    id: &str,
    old: Option<&str>,
) -> FileResult<FileUrl> {
    let media = super::media::get(tool, session, id).await?;
    if media.file().is_none() {
        return Err(FileError::NoFile);
    }
    let holder = Holder::Member(hash_secret(session_token));
    let path = format!("/media/{}/file", media.id);
    if let Some(old) = old
        && let Ok((hash, grant)) = held_grant(tool, old, |h, _| *h == holder).await
        && grant.media_id == media.id
        && let Some(url) = renew(tool, old, hash, &grant, &path).await?
    {
        return Ok(url);
    }
    Ok(issue(tool, &media.id, holder, path))
}

/// Who a guest's file request comes from: the holder its cookie's session
/// is, and the lookup hash of the link in its path.
fn guest_holder(
    tool: &Tool,
    link_token: &str,
    guest_session_token: Option<&str>,
) -> FileResult<(Holder, String)> {
    let session = guest_session_token.ok_or(FileError::UrlInvalid)?;
    Ok((
        Holder::Guest(hash_secret(session)),
        tool.sealer.lookup_hash(link_token),
    ))
}

/// The URL for a guest's page, whose player holds `old`: renewed in place,
/// or a new one for the same item once it has ended. The page keeps working
/// while the guest session lives, even after the link was deleted or guest
/// access switched off (existing guests stay until they reload).
pub async fn renew_for_guest(
    tool: &Tool,
    link_token: &str,
    guest_session_token: Option<&str>,
    old: Option<&str>,
) -> FileResult<FileUrl> {
    let (holder, link) = guest_holder(tool, link_token, guest_session_token)?;
    let old = old.ok_or(FileError::UrlInvalid)?;
    let (hash, grant) = held_grant(tool, old, |h, l| {
        *h == holder && l.is_some_and(|l| l.token_hash == link)
    })
    .await?;
    let path = format!("/g/{link_token}/file");
    if let Some(url) = renew(tool, old, hash, &grant, &path).await? {
        return Ok(url);
    }
    // The item may have gone meanwhile.
    deliverable(tool, grant.media_id.clone(), |_| true).await?;
    Ok(issue(tool, &grant.media_id, holder, path))
}

/// A file that may be sent, with where it lies on disk.
pub struct Deliverable {
    pub media: Media,
    pub path: PathBuf,
}

/// Serves `grant` if its times allow a request at now; `continues_stream`
/// tells, given the file's size, whether the request's Range starts after
/// byte 0.
async fn by_grant(
    tool: &Tool,
    raw: &str,
    held: impl FnOnce(&Holder, Option<&GuestLinkOf>) -> bool,
    media_id: Option<&MediaId>,
    continues_stream: impl FnOnce(u64) -> bool,
) -> FileResult<Deliverable> {
    let (hash, grant) = held_grant(tool, raw, held).await?;
    if media_id.is_some_and(|id| *id != grant.media_id) {
        return Err(FileError::UrlInvalid);
    }
    let deliverable = deliverable(tool, grant.media_id.clone(), |_| true).await?;
    let size = deliverable.media.file().map_or(0, |f| f.size);
    if !grant.times.allows(continues_stream(size), tool.clock.now()) {
        return Err(FileError::UrlExpired);
    }
    touch(tool, hash, &grant).await?;
    Ok(deliverable)
}

/// The file behind a member's URL (`/media/{id}/file?grant=`). The grant is
/// the credential: a player in a frame has no cookie to add.
pub async fn by_member_grant(
    tool: &Tool,
    id: &str,
    grant: &str,
    continues_stream: impl FnOnce(u64) -> bool,
) -> FileResult<Deliverable> {
    let id = MediaId::parse(id).ok_or(FileError::NotFound)?;
    let held = |h: &Holder, _: Option<&GuestLinkOf>| matches!(h, Holder::Member(_));
    by_grant(tool, grant, held, Some(&id), continues_stream).await
}

/// The file behind a guest's URL (`/g/{token}/file?grant=`): the grant must
/// be the one handed to this browser's guest session, which came in through
/// the link in the path.
pub async fn by_guest_grant(
    tool: &Tool,
    link_token: &str,
    guest_session_token: Option<&str>,
    grant: &str,
    continues_stream: impl FnOnce(u64) -> bool,
) -> FileResult<Deliverable> {
    let holder = Holder::Guest(hash_secret(
        guest_session_token.ok_or(FileError::UrlInvalid)?,
    ));
    let link = tool.sealer.lookup_hash(link_token);
    // The grant's read names the link's item too: kept for the stage check.
    let mut link_item = None;
    let held = |h: &Holder, l: Option<&GuestLinkOf>| {
        link_item = l.map(|l| l.media_id.clone());
        *h == holder && l.is_some_and(|l| l.token_hash == link)
    };
    let deliverable = by_grant(tool, grant, held, None, continues_stream).await?;
    // A grant for another item than the link's is a room's stage: it
    // serves only while that item is presented to this admitted guest.
    let (Holder::Guest(session_hash), Some(room)) = (&holder, link_item) else {
        return Err(FileError::UrlInvalid);
    };
    if room != deliverable.media.id
        && !super::rooms::guest_may_fetch(tool, &room, session_hash, &deliverable.media.id).await?
    {
        return Err(FileError::UrlInvalid);
    }
    Ok(deliverable)
}

/// The file of one of the session's course's items.
pub async fn by_session(tool: &Tool, session: &LaunchSession, id: &str) -> FileResult<Deliverable> {
    let id = MediaId::parse(id).ok_or(FileError::NotFound)?;
    let course = session.course.as_ref().map(|c| c.id);
    deliverable(tool, id, |media| Some(media.course_id) == course).await
}

async fn deliverable(
    tool: &Tool,
    id: MediaId,
    allowed: impl FnOnce(&Media) -> bool,
) -> FileResult<Deliverable> {
    let media = tool
        .db
        .read(move |conn| store::find(conn, &id))
        .await?
        .filter(allowed)
        .ok_or(FileError::NotFound)?;
    let file = media.file().ok_or(FileError::NotFound)?;
    let path = media_dir(tool).join(&file.name);
    Ok(Deliverable { media, path })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::{SecretKey, secret_token};

    fn sealer() -> Sealer {
        Sealer::new(&SecretKey::generate().0)
    }

    fn member() -> Holder {
        Holder::Member(hash_secret(&secret_token()))
    }

    #[test]
    fn a_minted_grant_opens_to_its_item_holder_and_time() {
        let sealer = sealer();
        let (media, holder) = (MediaId::generate(), member());
        let at = Timestamp::from_unix(1_800_000_000);
        let token = mint(&sealer, &media, &holder, at);
        assert!(is_grant_shaped(&token), "{token}");
        assert_eq!(
            open_minted(&sealer, &token),
            Some(Minted {
                media_id: media.clone(),
                holder: holder.clone(),
                issued_at: at,
            })
        );
        let guest = Holder::Guest(hash_secret("guest session"));
        let token = mint(&sealer, &media, &guest, at);
        assert_eq!(open_minted(&sealer, &token).unwrap().holder, guest);
    }

    #[test]
    fn two_grants_for_the_same_page_differ() {
        let sealer = sealer();
        let (media, holder, at) = (MediaId::generate(), member(), Timestamp::from_unix(0));
        assert_ne!(
            mint(&sealer, &media, &holder, at),
            mint(&sealer, &media, &holder, at)
        );
    }

    #[test]
    fn a_grant_altered_made_up_or_sealed_under_another_key_does_not_open() {
        let sealer = sealer();
        let token = mint(
            &sealer,
            &MediaId::generate(),
            &member(),
            Timestamp::from_unix(0),
        );
        let mut altered = token.clone().into_bytes();
        let last = altered.len() - 5;
        altered[last] = if altered[last] == b'A' { b'B' } else { b'A' };
        let altered = String::from_utf8(altered).unwrap();
        assert_eq!(open_minted(&sealer, &altered), None);
        assert_eq!(open_minted(&sealer, &secret_token()), None);
        assert_eq!(open_minted(&self::sealer(), &token), None);
        // Another sealed value of the tool's is not a grant.
        let other = sealer.seal_token(
            "guest link token",
            b"0123456789abcdef0123456789abcdef0123456789abc",
        );
        assert_eq!(open_minted(&sealer, &other), None);
    }

    #[test]
    fn a_wrapped_media_refusal_keeps_its_field_and_words() {
        let err = FileError::from(MediaError::TooLarge(1024 * 1024));
        assert_eq!(err.field(), Some(crate::domain::field::Field::File));
        assert_eq!(err.message(), MediaError::TooLarge(1024 * 1024).to_string());
        assert_eq!(err.kind(), Kind::TooLarge);
    }

    #[test]
    fn each_refusal_of_a_file_has_its_own_code() {
        let codes = [
            FileError::NotFound,
            FileError::NoFile,
            FileError::UrlInvalid,
            FileError::UrlExpired,
        ]
        .map(|e| e.code());
        assert_eq!(
            codes,
            [
                "not_found",
                "no_file",
                "file_url_invalid",
                "file_url_expired"
            ]
        );
    }

    #[test]
    fn a_missing_item_or_file_is_not_found() {
        assert_eq!(FileError::NotFound.kind(), Kind::NotFound);
        assert_eq!(FileError::NoFile.kind(), Kind::NotFound);
    }

    #[test]
    fn a_file_url_that_does_not_work_here_or_any_more_is_forbidden() {
        assert_eq!(FileError::UrlInvalid.kind(), Kind::Forbidden);
        assert_eq!(FileError::UrlExpired.kind(), Kind::Forbidden);
    }

    #[test]
    fn a_media_refusal_keeps_its_code_and_kind_and_a_media_fault_stays_a_fault() {
        let refused = FileError::from(MediaError::NoCourse);
        assert!(matches!(refused, FileError::Media(_)));
        assert_eq!(
            (refused.code(), refused.kind()),
            ("no_course", Kind::NotFound)
        );
        let fault = FileError::from(MediaError::Fault(Fault::Unavailable("down".into())));
        assert!(matches!(fault, FileError::Fault(_)));
        assert_eq!(fault.kind(), Kind::Unavailable);
    }
}
