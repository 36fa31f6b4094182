//! Helpers for the service tests: the real `garmax serve` / `garmax worker`
//! processes, an HTTP client, socket.io and SSE readers.

#![allow(dead_code)]

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

pub fn garmax_bin() -> &'static str {
    env!("CARGO_BIN_EXE_garmax")
}

/// A packaged asset's path (fails loudly when `garmax models fetch` has not run).
pub fn asset(name: &str) -> PathBuf {
    let out = Command::new(garmax_bin())
        .args(["models", "path", name])
        .output()
        .unwrap();
    let path = PathBuf::from(String::from_utf8(out.stdout).unwrap().trim());
    assert!(
        path.is_file(),
        "{} missing: run `garmax models fetch`",
        path.display()
    );
    path
}

pub fn person_photo() -> Vec<u8> {
    std::fs::read(asset("skimage/data/astronaut.png")).unwrap()
}

pub fn garment_photo() -> Vec<u8> {
    std::fs::read(asset(
        "saleor/static/placeholders/saleordemoproduct_cl_boot01_1.png",
    ))
    .unwrap()
}

/// Where a service's state lives.
#[derive(Clone, Debug)]
pub struct Backend {
    pub data_dir: PathBuf,
    pub env: Vec<(String, String)>,
}

impl Backend {
    /// Embedded: SQLite and a local directory under `dir`.
    pub fn embedded(dir: &Path) -> Backend {
        Backend {
            data_dir: dir.to_path_buf(),
            env: Vec::new(),
        }
    }

    /// PostgreSQL (a fresh database) and SeaweedFS S3 (from scripts/test).
    pub fn scaled(dir: &Path, database_url: &str) -> Backend {
        let endpoint = std::env::var("GARMAX_TEST_S3_ENDPOINT").expect(
            "GARMAX_TEST_S3_ENDPOINT is not set: run the suite with scripts/test, which starts SeaweedFS",
        );
        let mut env = vec![
            ("DATABASE_URL".to_string(), database_url.to_string()),
            (
                "GARMAX_STORAGE_URL".into(),
                format!("s3://garmax/{}", uuid_like()),
            ),
            ("AWS_ENDPOINT_URL".into(), endpoint),
        ];
        for k in ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION"] {
            env.push((
                k.into(),
                std::env::var(k).unwrap_or_else(|_| panic!("{k} not set (scripts/test sets it)")),
            ));
        }
        Backend {
            data_dir: dir.to_path_buf(),
            env,
        }
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(garmax_bin());
        c.args(args).arg("--data-dir").arg(&self.data_dir);
        c.env("GARMAX_LOG", "warn,garmax_server=info");
        for (k, v) in &self.env {
            c.env(k, v);
        }
        c
    }

    /// `garmax users create`; returns the key.
    pub fn create_user(&self, name: &str, admin: bool, credits: i64) -> String {
        let credits = credits.to_string();
        let mut args = vec![
            "users",
            "create",
            "--name",
            name,
            "--credits",
            &credits,
            "--plan",
            "pro",
        ];
        if admin {
            args.push("--admin");
        }
        let out = self.command(&args).output().unwrap();
        assert!(
            out.status.success(),
            "users create: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    }
}

fn uuid_like() -> String {
    format!(
        "{:x}{:x}",
        std::process::id(),
        Instant::now().elapsed().as_nanos() ^ rand_seed()
    )
}

fn rand_seed() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

/// A running `garmax serve` or `garmax worker`, killed on drop.
pub struct Proc {
    pub child: Child,
    pub base: String,
    pub log: PathBuf,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Proc {
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Sends SIGTERM (what a service manager sends to stop a service) and
    /// waits up to `secs` for the process to exit; `None` if it did not.
    pub fn terminate(&mut self, secs: u64) -> Option<std::process::ExitStatus> {
        let pid = self.child.id().to_string();
        run_ok(Command::new("kill").args(["-TERM", &pid]));
        let deadline = Instant::now() + Duration::from_secs(secs);
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }
}

/// Starts `garmax serve` on a free port with `extra` flags; waits for it.
pub fn serve(backend: &Backend, extra: &[&str]) -> Proc {
    let log = backend.data_dir.join(format!("serve-{}.log", rand_seed()));
    let mut args = vec!["serve", "--bind", "127.0.0.1:0"];
    args.extend_from_slice(extra);
    let mut child = backend
        .command(&args)
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut line = String::new();
    let mut reader = BufReader::new(stdout);
    reader.read_line(&mut line).unwrap();
    let base = line
        .trim()
        .strip_prefix("garmax serve listening on ")
        .unwrap_or_else(|| {
            panic!(
                "serve did not start: {line}\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            )
        })
        .to_string();
    std::thread::spawn(move || for _ in reader.lines() {});
    Proc { child, base, log }
}

/// Starts `garmax worker`.
pub fn worker(backend: &Backend, extra: &[&str]) -> Proc {
    let log = backend.data_dir.join(format!("worker-{}.log", rand_seed()));
    let mut args = vec!["worker"];
    args.extend_from_slice(extra);
    let mut child = backend
        .command(&args)
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let mut line = String::new();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    reader.read_line(&mut line).unwrap();
    assert!(
        line.contains("worker running"),
        "worker did not start: {line}\n{}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    std::thread::spawn(move || for _ in reader.lines() {});
    Proc {
        child,
        base: String::new(),
        log,
    }
}

/// A client of one server with one key.
#[derive(Clone)]
pub struct Client {
    pub http: reqwest::Client,
    pub base: String,
    pub key: String,
}

impl Client {
    pub fn new(base: &str, key: &str) -> Client {
        Client {
            http: reqwest::Client::new(),
            base: base.to_string(),
            key: key.to_string(),
        }
    }
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(self.url(path))
            .bearer_auth(&self.key)
            .send()
            .await
            .unwrap()
    }
    pub async fn get_json(&self, path: &str) -> (u16, Value) {
        let r = self.get(path).await;
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }
    pub async fn post_json(&self, path: &str, body: &Value) -> (u16, Value) {
        let r = self
            .http
            .post(self.url(path))
            .bearer_auth(&self.key)
            .json(body)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }
    pub async fn delete(&self, path: &str) -> u16 {
        self.http
            .delete(self.url(path))
            .bearer_auth(&self.key)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }
    pub async fn upload(&self, path: &str, field: &str, bytes: Vec<u8>) -> (u16, Value) {
        let part = reqwest::multipart::Part::bytes(bytes).file_name("upload.bin");
        let form = reqwest::multipart::Form::new().part(field.to_string(), part);
        let r = self
            .http
            .post(self.url(path))
            .bearer_auth(&self.key)
            .multipart(form)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// Uploads the sample photo and waits until the avatar is ready.
    pub async fn ready_avatar(&self) -> String {
        let (status, body) = self.upload("/api/avatars", "photo", person_photo()).await;
        assert_eq!(status, 202, "{body}");
        let id = body["id"].as_str().unwrap().to_string();
        let deadline = Instant::now() + Duration::from_secs(240);
        loop {
            let (_, a) = self.get_json(&format!("/api/avatars/{id}")).await;
            match a["status"].as_str() {
                Some("ready") => return id,
                Some("failed") => panic!("avatar failed: {a}"),
                _ => {}
            }
            assert!(Instant::now() < deadline, "avatar not ready in time: {a}");
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }

    pub async fn garment(&self) -> String {
        let (status, body) = self.upload("/api/garments", "image", garment_photo()).await;
        assert_eq!(status, 201, "{body}");
        body["id"].as_str().unwrap().to_string()
    }

    pub async fn create_session(&self, avatar: &str, garment: &str, quality: &str) -> String {
        let (status, body) = self
            .post_json(
                "/api/tryon/sessions",
                &serde_json::json!({ "avatarId": avatar, "garmentId": garment, "quality": quality }),
            )
            .await;
        assert_eq!(status, 202, "{body}");
        body["sessionId"].as_str().unwrap().to_string()
    }

    /// Polls a session until `done` holds.
    pub async fn wait_session(&self, id: &str, secs: u64, done: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let (_, s) = self.get_json(&format!("/api/tryon/sessions/{id}")).await;
            if done(&s) {
                return s;
            }
            assert!(
                Instant::now() < deadline,
                "session did not get there in time: {s}"
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// Reads the SSE stream of a session until a status in `until`,
    /// returning the `status-update` payloads.
    pub async fn sse(
        &self,
        id: &str,
        last_event_id: Option<i64>,
        until: &[&str],
        secs: u64,
    ) -> Vec<Value> {
        use futures::StreamExt as _;
        let mut req = self
            .http
            .get(self.url(&format!("/api/tryon/sessions/{id}/events")))
            .bearer_auth(&self.key);
        if let Some(l) = last_event_id {
            req = req.header("Last-Event-ID", l.to_string());
        }
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status(), 200);
        let mut stream = resp.bytes_stream();
        let mut buf = String::new();
        let mut out = Vec::new();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
        loop {
            let chunk = tokio::time::timeout_at(deadline, stream.next())
                .await
                .unwrap_or_else(|_| panic!("SSE timed out after {out:?}"));
            let Some(chunk) = chunk else { return out };
            buf.push_str(&String::from_utf8_lossy(&chunk.unwrap()));
            while let Some(end) = buf.find("\n\n") {
                let frame: String = buf.drain(..end + 2).collect();
                let data: String = frame
                    .lines()
                    .filter_map(|l| l.strip_prefix("data:"))
                    .map(str::trim)
                    .collect();
                if frame.lines().any(|l| l.trim() == "event: status-update") && !data.is_empty() {
                    let v: Value = serde_json::from_str(&data).unwrap();
                    let stop = until.contains(&v["status"].as_str().unwrap_or(""));
                    out.push(v);
                    if stop {
                        return out;
                    }
                }
            }
        }
    }
}

/// A socket.io client on `/tryon` that collects `status-update` payloads.
pub struct Socket {
    pub client: rust_socketio::asynchronous::Client,
    pub updates: tokio::sync::mpsc::UnboundedReceiver<Value>,
    pub errors: tokio::sync::mpsc::UnboundedReceiver<Value>,
}

pub async fn socket(base: &str, key: &str) -> Socket {
    use futures::FutureExt as _;
    use rust_socketio::Payload;
    use rust_socketio::asynchronous::ClientBuilder;
    let (tx, updates) = tokio::sync::mpsc::unbounded_channel();
    let (etx, errors) = tokio::sync::mpsc::unbounded_channel();
    let (ctx, mut connected) = tokio::sync::mpsc::unbounded_channel::<()>();
    let client = ClientBuilder::new(base.to_string())
        .namespace("/tryon")
        .auth(serde_json::json!({ "token": key }))
        .on("open", move |_, _| {
            let ctx = ctx.clone();
            async move {
                let _ = ctx.send(());
            }
            .boxed()
        })
        .on("status-update", move |payload, _| {
            let tx = tx.clone();
            async move {
                if let Payload::Text(values) = payload {
                    for v in values {
                        let _ = tx.send(v);
                    }
                }
            }
            .boxed()
        })
        .on("error", move |payload, _| {
            let etx = etx.clone();
            async move {
                if let Payload::Text(values) = payload {
                    for v in values {
                        let _ = etx.send(v);
                    }
                }
            }
            .boxed()
        })
        .connect()
        .await
        .expect("socket.io connect");
    // An emit right after connect() can be lost: wait for the connect event.
    tokio::time::timeout(Duration::from_secs(10), connected.recv())
        .await
        .expect("socket.io connect event");
    Socket {
        client,
        updates,
        errors,
    }
}

impl Socket {
    pub async fn join(&self, session: &str) {
        self.client
            .emit("join-session", serde_json::json!({ "sessionId": session }))
            .await
            .unwrap();
    }

    /// Collects updates until one has a status in `until`, dropping a
    /// repeated `seq` as every client does (an event written while the
    /// server replays the history on join may come twice).
    pub async fn until(&mut self, until: &[&str], secs: u64) -> Vec<Value> {
        let mut out: Vec<Value> = Vec::new();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
        loop {
            let v = tokio::time::timeout_at(deadline, self.updates.recv())
                .await
                .unwrap_or_else(|_| panic!("socket.io timed out after {out:?}"))
                .expect("socket closed");
            let seq = v["seq"].as_i64();
            if seq.is_some() && out.last().and_then(|l| l["seq"].as_i64()) >= seq {
                continue;
            }
            let stop = until.contains(&v["status"].as_str().unwrap_or(""));
            out.push(v);
            if stop {
                return out;
            }
        }
    }
}

/// Asserts updates are in order: seq strictly increasing, progress never
/// decreasing, exactly one preview_ready at 100 when present.
pub fn assert_ordered(updates: &[Value]) {
    let seqs: Vec<i64> = updates.iter().map(|u| u["seq"].as_i64().unwrap()).collect();
    assert!(
        seqs.windows(2).all(|w| w[0] < w[1]),
        "seq not increasing: {seqs:?}"
    );
    let progress: Vec<i64> = updates
        .iter()
        .map(|u| u["progress"].as_i64().unwrap())
        .collect();
    assert!(
        progress.windows(2).all(|w| w[0] <= w[1]),
        "progress went backwards: {progress:?}"
    );
    let previews: Vec<&Value> = updates
        .iter()
        .filter(|u| u["status"] == "preview_ready")
        .collect();
    assert!(
        previews.len() <= 1,
        "preview announced {} times",
        previews.len()
    );
    if let Some(p) = previews.first() {
        assert_eq!(p["progress"], 100);
        assert!(p["previewUrl"].as_str().unwrap().ends_with("/preview"));
    }
}

/// A TCP proxy in front of a real service that a test can cut and
/// restore: while cut, open connections are dropped and new ones are
/// closed at once, as when the service's host is unreachable.
pub struct Outage {
    pub addr: std::net::SocketAddr,
    up: std::sync::Arc<tokio::sync::watch::Sender<bool>>,
    task: tokio::task::JoinHandle<()>,
}

impl Outage {
    /// Proxies a fresh loopback port to `target` (`host:port`).
    pub async fn proxy(target: &str) -> Outage {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (up, _) = tokio::sync::watch::channel(true);
        let up = std::sync::Arc::new(up);
        let target = target.to_string();
        let shared = up.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    return;
                };
                if !*shared.borrow() {
                    drop(client);
                    continue;
                }
                let mut cut = shared.subscribe();
                let target = target.clone();
                tokio::spawn(async move {
                    let Ok(server) = tokio::net::TcpStream::connect(&target).await else {
                        return;
                    };
                    let (mut client, mut server) = (client, server);
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = cut.wait_for(|up| !*up) => {}
                    }
                });
            }
        });
        Outage { addr, up, task }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn cut(&self) {
        self.up.send_replace(false);
    }

    pub fn restore(&self) {
        self.up.send_replace(true);
    }
}

impl Drop for Outage {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A PostgreSQL server of the test's own (initdb in a temporary folder, a
/// free port), so the test can restart it without touching the shared one.
/// Run as root it runs the server as the `postgres` user, as PostgreSQL
/// requires.
pub struct PrivatePostgres {
    dir: PathBuf,
    pub port: u16,
}

impl PrivatePostgres {
    pub fn start() -> PrivatePostgres {
        let port = free_port();
        let dir = std::env::temp_dir().join(format!("garmax-pg-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let as_root = Command::new("id")
            .arg("-u")
            .output()
            .map(|o| o.stdout == b"0\n")
            .unwrap_or(false);
        if as_root {
            run_ok(Command::new("chown").arg("postgres:postgres").arg(&dir));
        }
        let pg = PrivatePostgres { dir, port };
        run_ok(&mut pg.command("initdb", &["-A", "trust", "-U", "postgres", "--no-sync"]));
        pg.ctl("start");
        pg
    }

    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// `pg_ctl restart -m fast`: every connection is closed, in-flight
    /// transactions are rolled back, the server comes back on its port.
    pub fn restart(&self) {
        self.ctl("restart");
    }

    fn ctl(&self, action: &str) {
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {} -c fsync=off",
            self.port,
            self.dir.display()
        );
        let log = self.dir.join("server.log");
        let log = log.to_str().unwrap();
        run_ok(&mut self.command(
            "pg_ctl",
            &[
                "-w", "-t", "60", "-m", "fast", "-l", log, "-o", &options, action,
            ],
        ));
    }

    /// `tool -D <data>` with `args`, as the `postgres` user when we are root.
    fn command(&self, tool: &str, args: &[&str]) -> Command {
        let bin = [
            "/usr/lib/postgresql/15/bin",
            "/usr/lib/postgresql/16/bin",
            "/usr/local/bin",
            "/usr/bin",
        ]
        .iter()
        .map(|d| Path::new(d).join(tool))
        .find(|p| p.exists())
        .unwrap_or_else(|| panic!("{tool} (PostgreSQL's server tools) is required for this test"));
        let data = self.dir.join("data");
        let as_root = Command::new("id")
            .arg("-u")
            .output()
            .map(|o| o.stdout == b"0\n")
            .unwrap_or(false);
        let mut c = if as_root {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(bin);
            c
        } else {
            Command::new(bin)
        };
        c.arg("-D").arg(data).args(args);
        c
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let _ = self
            .command("pg_ctl", &["-m", "immediate", "-w", "stop"])
            .output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn run_ok(c: &mut Command) {
    let out = c.output().unwrap_or_else(|e| panic!("{c:?}: {e}"));
    assert!(
        out.status.success(),
        "{c:?}: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A new, empty database on the test PostgreSQL server; returns its URL.
pub async fn fresh_postgres() -> String {
    use sqlx::Connection as _;
    let admin = std::env::var("GARMAX_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let mut conn = sqlx::PgConnection::connect(&admin)
        .await
        .unwrap_or_else(|e| {
            panic!("PostgreSQL at {admin} is required (scripts/test starts it): {e}")
        });
    let name = format!("garmax_e2e_{}", uuid::Uuid::new_v4().simple());
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .unwrap();
    format!("{}/{name}", admin.rsplit_once('/').unwrap().0)
}

/// A local SMTP server that accepts every message (RFC 5321's commands a
/// client sends: EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT) and keeps
/// them for the test to read.
pub struct SmtpSink {
    pub port: u16,
    messages: std::sync::Arc<std::sync::Mutex<Vec<SmtpMessage>>>,
}

#[derive(Debug, Clone)]
pub struct SmtpMessage {
    pub from: String,
    pub to: Vec<String>,
    /// Headers and body as sent (dot-stuffing undone).
    pub data: String,
}

impl SmtpSink {
    pub async fn start() -> SmtpSink {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let messages = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let keep = messages.clone();
        tokio::spawn(async move {
            while let Ok((conn, _)) = listener.accept().await {
                tokio::spawn(smtp_session(conn, keep.clone()));
            }
        });
        SmtpSink { port, messages }
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    pub fn messages(&self) -> Vec<SmtpMessage> {
        self.messages.lock().unwrap().clone()
    }
}

async fn smtp_session(
    conn: tokio::net::TcpStream,
    keep: std::sync::Arc<std::sync::Mutex<Vec<SmtpMessage>>>,
) {
    use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _};
    let (read, mut write) = conn.into_split();
    let mut lines = tokio::io::BufReader::new(read).lines();
    let _ = write.write_all(b"220 sink ESMTP\r\n").await;
    let mut current = SmtpMessage {
        from: String::new(),
        to: Vec::new(),
        data: String::new(),
    };
    while let Ok(Some(line)) = lines.next_line().await {
        let upper = line.to_ascii_uppercase();
        let reply: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
            b"250 sink\r\n"
        } else if upper.starts_with("MAIL FROM:") {
            current.from = line[10..].trim().to_string();
            b"250 OK\r\n"
        } else if upper.starts_with("RCPT TO:") {
            current.to.push(line[8..].trim().to_string());
            b"250 OK\r\n"
        } else if upper == "DATA" {
            let _ = write.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await;
            while let Ok(Some(l)) = lines.next_line().await {
                if l == "." {
                    break;
                }
                current.data.push_str(l.strip_prefix('.').unwrap_or(&l));
                current.data.push('\n');
            }
            keep.lock().unwrap().push(std::mem::replace(
                &mut current,
                SmtpMessage {
                    from: String::new(),
                    to: Vec::new(),
                    data: String::new(),
                },
            ));
            b"250 OK queued\r\n"
        } else if upper == "QUIT" {
            let _ = write.write_all(b"221 bye\r\n").await;
            return;
        } else if upper == "RSET" || upper == "NOOP" {
            b"250 OK\r\n"
        } else {
            b"502 not implemented\r\n"
        };
        if write.write_all(reply).await.is_err() {
            return;
        }
    }
}
