#!/usr/bin/env bash
# Starts the local services the tests need (Redis, PostgreSQL) when they are installed but
# not running. Uses the same commands the machine image uses. Never fails on its own: the
# tests decide (with LARDER_REQUIRE_SERVICES=1 a missing service fails them).
set -u
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if ! port_open 6379; then
  if command -v redis-server >/dev/null; then
    echo "[services] starting redis-server on 127.0.0.1:6379"
    mkdir -p /tmp/larder-redis
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
      --dir /tmp/larder-redis --logfile /tmp/larder-redis/redis.log
  else
    echo "[services] redis-server is not installed (tests will start nothing)"
  fi
fi

if ! port_open 5432; then
  if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
    echo "[services] starting PostgreSQL on 127.0.0.1:5432"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | tail -1)" main start || true
  else
    echo "[services] PostgreSQL is not installed (the test helper may start a throwaway one)"
  fi
fi

for i in $(seq 1 50); do
  port_open 6379 && port_open 5432 && break
  sleep 0.2
done
port_open 6379 && echo "[services] redis: up" || echo "[services] redis: DOWN"
port_open 5432 && echo "[services] postgres: up" || echo "[services] postgres: DOWN"
exit 0
