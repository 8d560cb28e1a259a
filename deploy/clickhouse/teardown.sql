-- teardown result files (schema version 1, docs/results-format.md) in ClickHouse.
--   clickhouse-client --multiquery < deploy/clickhouse/teardown.sql
--   clickhouse-client -q "INSERT INTO teardown.connections FORMAT Parquet" < results/x/connections.parquet
-- Column names and order follow the Parquet files; JSON columns (ladder, encapsulation, evidence, details) are String
-- (JSONExtract*). Nulls in non-Nullable columns load as defaults (input_format_null_as_default, on by default).
CREATE DATABASE IF NOT EXISTS teardown;

CREATE TABLE IF NOT EXISTS teardown.connections
(
    label String,
    capture String,
    shard Nullable(String),
    id String,
    client String,
    server String,
    client_host String,
    client_guessed Bool,
    ip_version Int32,
    incarnation Int32,
    previous Nullable(String),
    next Nullable(String),
    first_frame Int64,
    last_frame Int64,
    start_time Float64,
    end_time Float64,
    packets Int64,
    bytes_c2s Int64,
    bytes_s2c Int64,
    retransmissions_c2s Int64,
    retransmissions_s2c Int64,
    keepalives_c2s Int64,
    keepalives_s2c Int64,
    duplicates Int64,
    handshake LowCardinality(String),
    teardown LowCardinality(String),
    closer LowCardinality(Nullable(String)),
    ending LowCardinality(String),
    client_state LowCardinality(String),
    server_state LowCardinality(String),
    findings Array(String),
    half_closed_time Nullable(Float64),
    closed_time Nullable(Float64),
    time_wait_until Nullable(Float64),
    reset_time Nullable(Float64),
    capture_point LowCardinality(String),
    filter String,
    ladder String,
    elided Int64,
    encapsulation Nullable(String)
)
ENGINE = MergeTree
ORDER BY (label, capture, start_time);

CREATE TABLE IF NOT EXISTS teardown.findings
(
    label String,
    capture String,
    shard Nullable(String),
    connection String,
    kind LowCardinality(String),
    severity LowCardinality(String),
    time Float64,
    summary String,
    why String,
    rule String,
    evidence String,
    details String
)
ENGINE = MergeTree
ORDER BY (label, kind, time);
