//! How every call reaches Redis: bounded by the command timeout, retried once after the
//! consumer groups were re-created (`NOGROUP`), blocking reads on dedicated connections.

use std::future::Future;
use std::time::Duration;

use redis::{Cmd, FromRedisValue, RedisError, RedisResult, ScriptInvocation};

use super::RedisQueue;
use crate::link::RedisLink;
use crate::{Error, Result};

impl RedisQueue {
    /// Bounds one Redis call by `command_timeout`.
    pub(super) async fn bounded<T>(
        &self,
        operation: &'static str,
        call: impl Future<Output = RedisResult<T>>,
    ) -> Result<T> {
        match tokio::time::timeout(self.config.command_timeout, call).await {
            Ok(result) => Ok(result?),
            Err(_) => Err(Error::Timeout {
                operation,
                after: self.config.command_timeout,
            }),
        }
    }

    /// Runs a non-blocking call on the shared connection, bounded by `command_timeout`; on
    /// `NOGROUP` re-creates the groups and runs it once more.
    pub(super) async fn call<T, F, Fut>(&self, operation: &'static str, call: F) -> Result<T>
    where
        F: Fn(RedisLink) -> Fut,
        Fut: Future<Output = RedisResult<T>>,
    {
        match self.bounded(operation, call(self.link.clone())).await {
            Err(Error::Redis(e)) if is_nogroup(&e) => {
                tracing::warn!(
                    operation,
                    "consumer group missing (Redis lost its data?): re-creating"
                );
                self.ensure_groups().await?;
                self.bounded(operation, call(self.link.clone())).await
            }
            other => other,
        }
    }

    /// Runs one command, bounded by `command_timeout`, with the NOGROUP retry.
    pub(crate) async fn query<T: FromRedisValue>(
        &self,
        operation: &'static str,
        cmd: &Cmd,
    ) -> Result<T> {
        self.call(operation, move |mut conn| async move {
            cmd.query_async(&mut conn).await
        })
        .await
    }

    /// Runs one Lua script, bounded by `command_timeout`, with the NOGROUP retry.
    pub(super) async fn invoke<T: FromRedisValue>(
        &self,
        operation: &'static str,
        invocation: &ScriptInvocation<'_>,
    ) -> Result<T> {
        self.call(operation, move |mut conn| async move {
            invocation.invoke_async(&mut conn).await
        })
        .await
    }

    /// Runs a blocking read (`XREADGROUP ... BLOCK`) on a dedicated connection, bounded by
    /// `wait + command_timeout`; NOGROUP re-creates the groups once.
    pub(super) async fn blocking_read<T: FromRedisValue>(
        &self,
        operation: &'static str,
        cmd: &Cmd,
        wait: Duration,
    ) -> Result<T> {
        let bound = wait.saturating_add(self.config.command_timeout);
        match self.blocking.query(operation, cmd, bound).await {
            Err(Error::Redis(e)) if is_nogroup(&e) => {
                tracing::warn!(
                    operation,
                    "consumer group missing (Redis lost its data?): re-creating"
                );
                self.ensure_groups().await?;
                self.blocking.query(operation, cmd, bound).await
            }
            other => other,
        }
    }
}

pub(super) fn is_nogroup(e: &RedisError) -> bool {
    e.code() == Some("NOGROUP")
}
