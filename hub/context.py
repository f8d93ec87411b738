"""What the HTTP side of the hub shares: the database, the publisher, the session policy and the
site's settings. Services get a unit of work from it; adapters get it from the app."""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import Connection, Engine

from hub.auth import SessionPolicy
from hub.config import PassesConfig
from hub.live import TaskFeed
from hub.uow import Publisher, UnitOfWork, unit_of_work


@dataclass
class HubContext:
    engine: Engine
    publish: Publisher
    policy: SessionPolicy = field(default_factory=SessionPolicy)
    template_limit: int = 100_000
    site_timezone: str = "Asia/Shanghai"
    default_language: str = "zh-CN"
    feed: TaskFeed = field(default_factory=TaskFeed)
    secure_cookies: bool = False
    passes: PassesConfig = field(default_factory=PassesConfig)
    unlock_expiry: timedelta = timedelta(seconds=60)

    def work(self) -> AbstractContextManager[UnitOfWork]:
        """A transaction whose messages are published after it commits."""
        return unit_of_work(self.engine, self.publish)

    def read(self) -> AbstractContextManager[Connection]:
        """A connection for reads that change nothing."""
        return self.engine.connect()
