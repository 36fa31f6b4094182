//! Object storage: a local directory by default, S3 (or any S3-compatible
//! server) by URL. Keys are built here from server-made ids and a fixed set
//! of file names; nothing a user typed becomes part of a key.

use std::sync::Arc;

use bytes::Bytes;
use futures::TryStreamExt as _;
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::prefix::PrefixStore;
use object_store::{ObjectStore, ObjectStoreExt as _, PutPayload};

use crate::StoreError;

/// Retries of one storage request: a few, within seconds. A storage that
/// stays unreachable longer fails the request (`OBJ_028`); a job then goes
/// back to the durable queue with its own backoff rather than holding a
/// worker slot for minutes (object_store's default is 10 retries within
/// 3 minutes).
fn storage_retry() -> object_store::RetryConfig {
    object_store::RetryConfig {
        max_retries: 3,
        retry_timeout: std::time::Duration::from_secs(10),
        ..Default::default()
    }
}

/// Bounds on one storage connection and request.
fn storage_client_options() -> object_store::ClientOptions {
    object_store::ClientOptions::new()
        .with_connect_timeout(std::time::Duration::from_secs(5))
        .with_timeout(std::time::Duration::from_secs(60))
}

/// What owns a stored file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    Avatar,
    Garment,
    Session,
}

impl Owner {
    fn dir(self) -> &'static str {
        match self {
            Owner::Avatar => "avatars",
            Owner::Garment => "garments",
            Owner::Session => "sessions",
        }
    }
}

/// A key in object storage: `{avatars|garments|sessions}/{id}/{name}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectKey(Path);

impl ObjectKey {
    /// `id` must be a server-made id and `name` one of the pipeline's file
    /// names (letters, digits, `.`, `-`, `_`; no `..`).
    pub fn new(owner: Owner, id: &str, name: &str) -> Result<ObjectKey, StoreError> {
        let id_ok = !id.is_empty()
            && id.len() <= 64
            && id.chars().all(|c| c.is_ascii_hexdigit() || c == '-');
        let name_ok = !name.is_empty()
            && name.len() <= 64
            && !name.contains("..")
            && !name.starts_with('.')
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
        if !id_ok || !name_ok {
            return Err(StoreError::Invalid(format!(
                "not a storable object name: {name}"
            )));
        }
        Ok(ObjectKey(Path::from(format!(
            "{}/{id}/{name}",
            owner.dir()
        ))))
    }

    fn prefix(owner: Owner, id: &str) -> Result<Path, StoreError> {
        let key = ObjectKey::new(owner, id, "x")?;
        Ok(Path::from(
            key.0.as_ref().trim_end_matches("/x").to_string(),
        ))
    }

    pub fn as_str(&self) -> &str {
        self.0.as_ref()
    }
}

/// The object store and a description of where it is.
#[derive(Clone)]
pub struct Objects {
    inner: Arc<dyn ObjectStore>,
    location: String,
}

impl Objects {
    /// `url`: a directory path or `file:///dir` (local), or
    /// `s3://bucket[/prefix]` with the usual `AWS_*` variables
    /// (`AWS_ENDPOINT_URL` for an S3-compatible server, `AWS_ALLOW_HTTP=true`
    /// for plain HTTP to it).
    pub fn open(url: &str) -> Result<Objects, StoreError> {
        if let Some(rest) = url.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                return Err(StoreError::Config(format!("no bucket in {url}")));
            }
            // Client options first: they replace the whole set, including
            // the `allow_http` the endpoint below may need.
            let mut builder = AmazonS3Builder::from_env()
                .with_bucket_name(bucket)
                .with_retry(storage_retry())
                .with_client_options(storage_client_options());
            if let Ok(endpoint) = std::env::var("AWS_ENDPOINT_URL") {
                builder = builder.with_endpoint(&endpoint);
                if endpoint.starts_with("http://") {
                    builder = builder.with_allow_http(true);
                }
                // S3-compatible servers are addressed by path, not by a
                // bucket sub-domain.
                builder = builder.with_virtual_hosted_style_request(false);
            }
            let s3 = builder.build()?;
            let inner: Arc<dyn ObjectStore> = if prefix.trim_matches('/').is_empty() {
                Arc::new(s3)
            } else {
                Arc::new(PrefixStore::new(s3, prefix.trim_matches('/')))
            };
            return Ok(Objects {
                inner,
                location: url.to_string(),
            });
        }
        let dir = url.strip_prefix("file://").unwrap_or(url);
        std::fs::create_dir_all(dir).map_err(|e| {
            StoreError::Config(format!("creating the storage directory {dir}: {e}"))
        })?;
        let local = LocalFileSystem::new_with_prefix(dir)?;
        Ok(Objects {
            inner: Arc::new(local),
            location: dir.to_string(),
        })
    }

    /// Where the objects are (for logs; no secrets).
    pub fn location(&self) -> &str {
        &self.location
    }

    pub async fn put(&self, key: &ObjectKey, bytes: Vec<u8>) -> Result<(), StoreError> {
        self.inner.put(&key.0, PutPayload::from(bytes)).await?;
        Ok(())
    }

    /// Reads an object; larger than `max_bytes` is an error (stored objects
    /// are ours, but a bound keeps a corrupted store from exhausting memory).
    pub async fn get(&self, key: &ObjectKey, max_bytes: u64) -> Result<Bytes, StoreError> {
        let result = self.inner.get(&key.0).await?;
        if result.meta.size > max_bytes {
            return Err(StoreError::Invalid(format!(
                "stored object {} is {} bytes (limit {max_bytes})",
                key.as_str(),
                result.meta.size
            )));
        }
        Ok(result.bytes().await?)
    }

    /// Whether the object exists.
    pub async fn exists(&self, key: &ObjectKey) -> Result<bool, StoreError> {
        match self.inner.head(&key.0).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Deletes every object of an owner.
    pub async fn delete_all(&self, owner: Owner, id: &str) -> Result<(), StoreError> {
        let prefix = ObjectKey::prefix(owner, id)?;
        let paths: Vec<Path> = self
            .inner
            .list(Some(&prefix))
            .map_ok(|m| m.location)
            .try_collect()
            .await?;
        for p in paths {
            match self.inner.delete(&p).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    /// Checks the store answers (for `/ready`): a list of a missing prefix.
    pub async fn ping(&self) -> Result<(), StoreError> {
        let probe = Path::from("health-probe");
        let _: Vec<_> = self.inner.list(Some(&probe)).try_collect().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_refuse_user_controlled_names() {
        let id = "0b6a3f0e-8a3c-4b8e-9a57-2c2f1c7e5d10";
        assert_eq!(
            ObjectKey::new(Owner::Avatar, id, "body.glb")
                .unwrap()
                .as_str(),
            format!("avatars/{id}/body.glb")
        );
        for bad in ["../x", "a/b", ".hidden", "", "x y", "%2e%2e"] {
            assert!(ObjectKey::new(Owner::Avatar, id, bad).is_err(), "{bad}");
        }
        assert!(ObjectKey::new(Owner::Avatar, "../../etc", "photo").is_err());
        assert!(ObjectKey::new(Owner::Avatar, "not-hex-zz", "photo").is_err());
    }

    #[tokio::test]
    async fn local_put_get_delete() {
        let dir = tempfile::tempdir().unwrap();
        let objects = Objects::open(dir.path().to_str().unwrap()).unwrap();
        let id = "0b6a3f0e-8a3c-4b8e-9a57-2c2f1c7e5d10";
        let key = ObjectKey::new(Owner::Session, id, "preview.png").unwrap();
        assert!(!objects.exists(&key).await.unwrap());
        objects.put(&key, b"png".to_vec()).await.unwrap();
        assert_eq!(objects.get(&key, 10).await.unwrap().as_ref(), b"png");
        assert!(objects.get(&key, 2).await.is_err());
        objects.delete_all(Owner::Session, id).await.unwrap();
        assert!(!objects.exists(&key).await.unwrap());
        objects.ping().await.unwrap();
    }
}
