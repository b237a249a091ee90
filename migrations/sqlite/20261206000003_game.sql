-- The game context on SQLite: the same tables, columns, checks and indexes as the
-- PostgreSQL migration of the same name, with TEXT and INTEGER columns.

-- missionList: one row per mission, with where its reward stands.
CREATE TABLE mission_list
(
    -- The Mission aggregate's id: a UUID v5 of (customerId, missionCode).
    mission_id    TEXT   PRIMARY KEY,
    customer_id   TEXT   NOT NULL,
    mission_code  TEXT   NOT NULL,
    achieved_at   TEXT   NOT NULL,
    -- The Reward aggregate's id, once allocated.
    reward_id     TEXT,
    reward_status TEXT   CHECK (reward_status IN ('ALLOCATED', 'ISSUED', 'EXCHANGED')),
    -- What the reward was exchanged for, and the gift service's id of the gift.
    product_code  TEXT,
    gift_id       TEXT,
    position      INTEGER NOT NULL,
    updated_at    TEXT   NOT NULL
) STRICT;

-- A customer's missions, in mission_id (keyset) order.
CREATE INDEX mission_list_customer ON mission_list (customer_id, mission_id);

-- walletList: one row per reward in a wallet.
CREATE TABLE wallet_list
(
    -- The Reward aggregate's id.
    reward_id     TEXT   PRIMARY KEY,
    customer_id   TEXT   NOT NULL,
    mission_id    TEXT   NOT NULL,
    mission_code  TEXT   NOT NULL,
    reward_status TEXT   NOT NULL CHECK (reward_status IN ('ISSUED', 'EXCHANGED')),
    issued_at     TEXT   NOT NULL,
    exchanged_at  TEXT,
    product_code  TEXT,
    gift_id       TEXT,
    position      INTEGER NOT NULL,
    updated_at    TEXT   NOT NULL
) STRICT;

-- A customer's rewards, rewards by status, in reward_id (keyset) order.
CREATE INDEX wallet_list_customer ON wallet_list (customer_id, reward_id);
CREATE INDEX wallet_list_status ON wallet_list (reward_status, reward_id);

-- The mypage's missions and wallet: rows as in mission_list and wallet_list; user_id
-- is the customer_id.
CREATE TABLE mypage_missions
(
    user_id       TEXT   NOT NULL,
    mission_id    TEXT   PRIMARY KEY,
    customer_id   TEXT   NOT NULL,
    mission_code  TEXT   NOT NULL,
    achieved_at   TEXT   NOT NULL,
    reward_id     TEXT,
    reward_status TEXT,
    product_code  TEXT,
    gift_id       TEXT,
    position      INTEGER NOT NULL,
    updated_at    TEXT   NOT NULL
) STRICT;

CREATE INDEX mypage_missions_user ON mypage_missions (user_id, mission_id);

CREATE TABLE mypage_wallet
(
    user_id       TEXT   NOT NULL,
    reward_id     TEXT   PRIMARY KEY,
    customer_id   TEXT   NOT NULL,
    mission_id    TEXT   NOT NULL,
    mission_code  TEXT   NOT NULL,
    reward_status TEXT   NOT NULL,
    issued_at     TEXT   NOT NULL,
    exchanged_at  TEXT,
    product_code  TEXT,
    gift_id       TEXT,
    position      INTEGER NOT NULL,
    updated_at    TEXT   NOT NULL
) STRICT;

CREATE INDEX mypage_wallet_user ON mypage_wallet (user_id, reward_id);
