//! Live updates of rooms: which pages follow which room, and how a change
//! reaches them, on this instance and on the others.
//!
//! A page follows a room through a [`RoomFeed`]: one per room per instance,
//! shared by every page of that room here. When the room changes, the feed
//! reads the room once ([`RoomSnapshot`]) and every page following it gets
//! the new snapshot and shows its part (a moderator the lobby, a guest their
//! place in line). Snapshots carry the whole state, so a page that missed a
//! change, or a listener that missed notifications, is put right by the next
//! one: nothing is replayed.
//!
//! Changes are announced by the store. On PostgreSQL they are `NOTIFY`s on
//! [`store::rooms::CHANNEL`]; each instance has one listening connection
//! (on its own thread, started with the first feed) that pokes the feed of
//! the room named, and after it reconnects pokes every feed, since
//! notifications sent while it was away are lost. SQLite serves one
//! instance, so the service pokes the feed itself after a write.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Duration as StdDuration;

use tokio::sync::{Notify, watch};

use super::Tool;
use crate::domain::media::{Media, MediaId};
use crate::domain::room::{EntryStatus, LobbyLimits, PRESENCE_WINDOW, RoomRole};
use crate::domain::time::Timestamp;
use crate::store::rooms::{self as store, RoomRecord};
use crate::store::{Db, media as media_store};

/// How often a feed reads its room even without a change: presence and the
/// lobby's time limit change with time alone.
const RESYNC: StdDuration = StdDuration::from_secs(10);

/// A room as read at one instant, with what its pages derive from it.
#[derive(Debug)]
pub struct RoomSnapshot {
    pub media: MediaId,
    pub record: RoomRecord,
    /// The item on the stage, if any.
    pub presented: Option<Media>,
    /// When it was read (the rules' time) and the same in milliseconds
    /// (the presenter's playback is measured in them).
    pub at: Timestamp,
    pub at_ms: i64,
    pub limits: LobbyLimits,
    /// Audio and video for the running session.
    pub av: super::av::AvState,
    /// Serialized parts shared by every page of a kind, made by the first
    /// page that needs them.
    pub shared: [OnceLock<String>; 3],
    participants_key: OnceLock<u64>,
}

/// Which of [`RoomSnapshot::shared`] a page uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SharedPart {
    /// The room as members see it, without its participants.
    Member = 0,
    /// The same with the lobby, for moderators.
    Moderator = 1,
    /// The participants list, sent to a page only when it changed.
    Participants = 2,
}

/// What a snapshot says, compared to the previous one: only the derived
/// state, so a page's heartbeat (which moves a time and nothing else) sends
/// nothing.
#[derive(Debug, PartialEq, Eq)]
struct Digest {
    settings: store::RoomSettings,
    session: Option<store::SessionRow>,
    participants: Vec<(i64, String, RoomRole, bool)>,
    entries: Vec<(String, EntryStatus, Timestamp, bool)>,
}

impl RoomSnapshot {
    pub fn running(&self) -> Option<&store::SessionRow> {
        self.record.session.as_ref().filter(|s| s.running())
    }

    /// The participants present now.
    pub fn present(&self) -> impl Iterator<Item = &store::ParticipantRow> {
        self.record
            .participants
            .iter()
            .filter(|p| self.running().is_some() && p.present(self.at))
    }

    pub fn moderator_present(&self) -> bool {
        self.present().any(|p| p.role() == RoomRole::Moderator)
    }

    /// Entries with their status now.
    pub fn entries(&self) -> impl Iterator<Item = (&store::EntryRow, EntryStatus)> {
        self.record
            .entries
            .iter()
            .map(|e| (e, e.status_at(self.limits, self.at)))
    }

    /// The guests waiting now, in the order they came.
    pub fn waiting(&self) -> impl Iterator<Item = &store::EntryRow> {
        self.entries()
            .filter(|(_, s)| *s == EntryStatus::Waiting)
            .map(|(e, _)| e)
    }

    /// Admitted guests whose page is open.
    pub fn guests_in(&self) -> usize {
        self.guests_present().count()
    }

    /// The admitted guests whose page is there now (none once the session
    /// has ended).
    pub fn guests_present(&self) -> impl Iterator<Item = &store::EntryRow> {
        let running = self.running().is_some();
        self.entries()
            .filter(move |(e, s)| {
                running
                    && *s == EntryStatus::Admitted
                    && e.last_seen_at >= self.at - PRESENCE_WINDOW
            })
            .map(|(e, _)| e)
    }

    /// A waiting entry's place in line (1 is next); 0 if not waiting.
    pub fn place_of(&self, entry_id: &str) -> usize {
        self.waiting()
            .position(|e| e.id == entry_id)
            .map_or(0, |i| i + 1)
    }

    pub fn shared(&self, part: SharedPart, make: impl FnOnce() -> String) -> &str {
        self.shared[part as usize].get_or_init(make)
    }

    /// Tells one participants list from another: a page that has this one
    /// is not sent it again.
    pub fn participants_key(&self) -> u64 {
        *self.participants_key.get_or_init(|| {
            use std::hash::{Hash, Hasher};
            let mut hasher = std::collections::hash_map::DefaultHasher::new();
            for p in self.present() {
                (p.user_id, &p.name, p.role().as_str()).hash(&mut hasher);
            }
            hasher.finish()
        })
    }

    fn digest(&self) -> Digest {
        Digest {
            settings: self.record.settings,
            session: self.record.session.clone(),
            participants: self
                .record
                .participants
                .iter()
                .map(|p| (p.user_id, p.name.clone(), p.role(), p.present(self.at)))
                .collect(),
            entries: self
                .entries()
                .map(|(e, s)| {
                    (
                        e.id.clone(),
                        s,
                        e.waiting_since,
                        e.last_seen_at >= self.at - PRESENCE_WINDOW,
                    )
                })
                .collect(),
        }
    }
}

/// What a feed holds for its pages.
#[derive(Clone, Debug)]
pub enum FeedState {
    Loading,
    Ready(Arc<RoomSnapshot>),
    /// The database is away: pages end their streams and reconnect.
    Unavailable,
}

/// One room followed on this instance.
pub struct RoomFeed {
    media: MediaId,
    dirty: Notify,
    state: watch::Sender<FeedState>,
}

/// The feeds of this instance, by room.
#[derive(Default)]
pub struct RoomHub {
    feeds: Mutex<HashMap<MediaId, Arc<RoomFeed>>>,
    listening: AtomicBool,
    /// Open event streams per person (a launch or guest session).
    streams: Arc<Mutex<HashMap<String, usize>>>,
}

/// One open event stream of a person; its place is given back when it
/// is dropped.
pub struct StreamSlot {
    person: String,
    streams: Arc<Mutex<HashMap<String, usize>>>,
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut streams = self.streams.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(open) = streams.get_mut(&self.person) {
            *open -= 1;
            if *open == 0 {
                streams.remove(&self.person);
            }
        }
    }
}

impl RoomHub {
    /// A place for one more stream of `person`, unless they have `most` open.
    pub fn open_stream(&self, person: &str, most: usize) -> Option<StreamSlot> {
        let mut streams = self.streams.lock().unwrap_or_else(|e| e.into_inner());
        let open = streams.entry(person.to_string()).or_insert(0);
        if *open >= most {
            return None;
        }
        *open += 1;
        Some(StreamSlot {
            person: person.to_string(),
            streams: self.streams.clone(),
        })
    }

    /// Follows `media`: the feed's current state, and changes as they come.
    pub fn follow(self: &Arc<Self>, tool: &Tool, media: &MediaId) -> watch::Receiver<FeedState> {
        let receiver = self.subscribe(tool, media);
        // After the feed is in the map, so that a listener stopping for
        // want of feeds sees it (and goes on, or a new one starts here).
        self.listen(tool);
        receiver
    }

    fn subscribe(self: &Arc<Self>, tool: &Tool, media: &MediaId) -> watch::Receiver<FeedState> {
        let mut feeds = self.feeds.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(feed) = feeds.get(media) {
            return feed.state.subscribe();
        }
        let (state, receiver) = watch::channel(FeedState::Loading);
        let feed = Arc::new(RoomFeed {
            media: media.clone(),
            dirty: Notify::new(),
            state,
        });
        feeds.insert(media.clone(), feed.clone());
        tokio::spawn(run_feed(tool.clone(), Arc::downgrade(self), feed));
        receiver
    }

    /// The room changed: its feed (if this instance has one) reads it again.
    pub fn changed(&self, media: &str) {
        let Some(media) = MediaId::parse(media) else {
            return;
        };
        let feeds = self.feeds.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(feed) = feeds.get(&media) {
            feed.dirty.notify_one();
        }
    }

    /// Every feed reads its room again (after notifications may have been lost).
    pub fn resync_all(&self) {
        let feeds = self.feeds.lock().unwrap_or_else(|e| e.into_inner());
        for feed in feeds.values() {
            feed.dirty.notify_one();
        }
    }

    /// How many rooms this instance follows (for tests and the benchmark).
    pub fn followed(&self) -> usize {
        self.feeds.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Drops the feed if no page follows it any more; false if one came.
    fn release(&self, feed: &Arc<RoomFeed>) -> bool {
        let mut feeds = self.feeds.lock().unwrap_or_else(|e| e.into_inner());
        if feed.state.receiver_count() > 0 {
            return false;
        }
        feeds.remove(&feed.media);
        true
    }

    /// On PostgreSQL, starts this instance's listener unless it runs.
    fn listen(self: &Arc<Self>, tool: &Tool) {
        let Db::Pg(_) = &tool.db else { return };
        if self.listening.swap(true, Ordering::SeqCst) {
            return;
        }
        let crate::config::DatabaseUrl::Postgres(url) = tool.settings.database.url.clone() else {
            return;
        };
        let hub = Arc::downgrade(self);
        let spawned = std::thread::Builder::new()
            .name("room-listener".into())
            .spawn(move || listener::run(&url, &hub));
        if let Err(e) = spawned {
            tracing::error!(error = %e, "the room listener could not start");
            self.listening.store(false, Ordering::SeqCst);
        }
    }

    /// The listener stops when no page has followed a room for a while
    /// (it holds a database connection); false if a page came meanwhile,
    /// and it must go on.
    fn stop_listening(&self) -> bool {
        self.listening.store(false, Ordering::SeqCst);
        if self.followed() == 0 {
            return true;
        }
        // A page came between the check and the stop: keep listening,
        // unless another listener was started for it.
        self.listening.swap(true, Ordering::SeqCst)
    }
}

/// Tells this instance's pages that `media` changed, where the store's
/// announcement does not reach them (SQLite).
pub fn changed_here(tool: &Tool, media: &MediaId) {
    if let Db::Sqlite { .. } = &tool.db {
        tool.rooms.changed(media.as_str());
    }
}

/// Reads the room whenever it changes (or every [`RESYNC`]) and hands the
/// snapshot to its pages, until no page follows it.
async fn run_feed(tool: Tool, hub: Weak<RoomHub>, feed: Arc<RoomFeed>) {
    let mut last: Option<Digest> = None;
    loop {
        match load(&tool, &feed.media).await {
            Ok(snapshot) => {
                let digest = snapshot.digest();
                if last.as_ref() != Some(&digest) {
                    last = Some(digest);
                    feed.state
                        .send_replace(FeedState::Ready(Arc::new(snapshot)));
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "a room could not be read for its pages");
                last = None;
                feed.state.send_replace(FeedState::Unavailable);
            }
        }
        tokio::select! {
            _ = feed.dirty.notified() => {}
            _ = tokio::time::sleep(RESYNC) => {}
            _ = feed.state.closed() => {
                match hub.upgrade() {
                    Some(hub) if !hub.release(&feed) => continue,
                    _ => return,
                }
            }
        }
    }
}

/// Reads the room and the item on its stage.
pub async fn load(tool: &Tool, media: &MediaId) -> Result<RoomSnapshot, crate::store::StoreError> {
    let id = media.clone();
    let (record, presented) = tool
        .db
        .read(move |conn| {
            let record = store::load(conn, &id)?;
            let presented = match record
                .session
                .as_ref()
                .filter(|s| s.running())
                .and_then(|s| s.presenting.as_deref())
                .and_then(MediaId::parse)
            {
                Some(item) => media_store::find(conn, &item)?,
                None => None,
            };
            Ok((record, presented))
        })
        .await?;
    let av = super::av::state_of(tool, record.session.as_ref().filter(|s| s.running()));
    Ok(RoomSnapshot {
        media: media.clone(),
        record,
        presented,
        at: tool.clock.now(),
        at_ms: tool.clock.now_millis(),
        limits: LobbyLimits {
            wait: tool.settings.guests.lobby_wait,
        },
        av,
        shared: [OnceLock::new(), OnceLock::new(), OnceLock::new()],
        participants_key: OnceLock::new(),
    })
}

/// The PostgreSQL listener: one connection per instance, polled (libpq
/// reads what arrived without blocking), reconnected with a back-off.
mod listener {
    use std::sync::Weak;
    use std::time::{Duration, Instant};

    use diesel::connection::SimpleConnection;
    use diesel::{Connection, PgConnection};

    use super::RoomHub;
    use crate::store::rooms::CHANNEL;

    /// How often arrived notifications are picked up: the most a change
    /// waits here before its feed reads the room.
    const POLL: Duration = Duration::from_millis(15);
    /// How often an idle connection is checked (a silently dead one would
    /// otherwise deliver nothing, forever).
    const CHECK: Duration = Duration::from_secs(5);
    /// How long the listener stays without any room followed here.
    const IDLE: Duration = Duration::from_secs(30);

    pub fn run(url: &str, hub: &Weak<RoomHub>) {
        let mut backoff = Duration::from_millis(100);
        let mut idle_since = Instant::now();
        while let Some(strong) = hub.upgrade() {
            if strong.followed() > 0 {
                idle_since = Instant::now();
            } else if idle_since.elapsed() >= IDLE && strong.stop_listening() {
                return;
            }
            drop(strong);
            match connect(url) {
                Ok(mut conn) => {
                    backoff = Duration::from_millis(100);
                    // Whatever was announced while this instance was not
                    // listening is read now.
                    if let Some(hub) = hub.upgrade() {
                        hub.resync_all();
                    }
                    if listen(&mut conn, hub) == Ended::Idle {
                        continue;
                    }
                    tracing::warn!("the room listener lost its connection; reconnecting");
                }
                Err(e) => {
                    tracing::warn!(error = %e, "the room listener could not connect");
                    std::thread::sleep(backoff);
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                }
            }
        }
    }

    fn connect(url: &str) -> Result<PgConnection, String> {
        // A dead peer must not hang the listener: connecting and every
        // read or write give up within seconds.
        let sep = if url.contains('?') { '&' } else { '?' };
        let url = format!(
            "{url}{sep}connect_timeout=5&keepalives=1&keepalives_idle=10&keepalives_interval=5&keepalives_count=2&tcp_user_timeout=15000"
        );
        let mut conn = PgConnection::establish(&url).map_err(|e| e.to_string())?;
        conn.batch_execute(&format!(
            "SET application_name = 'guestlink-listener'; LISTEN {CHANNEL}"
        ))
        .map_err(|e| e.to_string())?;
        Ok(conn)
    }

    #[derive(PartialEq, Eq)]
    enum Ended {
        /// The connection failed.
        Lost,
        /// No room has been followed here for [`IDLE`] (or the hub is gone).
        Idle,
    }

    /// Passes notifications on until the connection fails, or no page has
    /// followed a room here for a while.
    fn listen(conn: &mut PgConnection, hub: &Weak<RoomHub>) -> Ended {
        let mut checked = Instant::now();
        let mut idle_since = Instant::now();
        loop {
            let Some(hub) = hub.upgrade() else {
                return Ended::Idle;
            };
            for notification in conn.notifications_iter() {
                match notification {
                    Ok(n) => hub.changed(&n.payload),
                    Err(_) => return Ended::Lost,
                }
            }
            if hub.followed() > 0 {
                idle_since = Instant::now();
            } else if idle_since.elapsed() >= IDLE {
                return Ended::Idle;
            }
            drop(hub);
            if checked.elapsed() >= CHECK {
                if conn.batch_execute("SELECT 1").is_err() {
                    return Ended::Lost;
                }
                checked = Instant::now();
            }
            std::thread::sleep(POLL);
        }
    }
}
