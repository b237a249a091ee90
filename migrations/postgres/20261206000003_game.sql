-- The game context (SPEC §2 "Game context", §3 missionList and walletList): its views
-- and the mypage's missions and wallet. Views as in 20261122000001_views.sql: built
-- from the log alone, each row with position and updated_at, ids and times as text.

-- missionList: one row per mission, with where its reward stands.
CREATE TABLE mission_list
(
    -- The Mission aggregate's id: a UUID v5 of (customerId, missionCode).
    mission_id    text   PRIMARY KEY,
    customer_id   text   NOT NULL,
    mission_code  text   NOT NULL,
    achieved_at   text   NOT NULL,
    -- The Reward aggregate's id, once allocated.
    reward_id     text,
    reward_status text   CHECK (reward_status IN ('ALLOCATED', 'ISSUED', 'EXCHANGED')),
    -- What the reward was exchanged for, and the gift service's id of the gift.
    product_code  text,
    gift_id       text,
    position      bigint NOT NULL,
    updated_at    text   NOT NULL
);

-- A customer's missions, in mission_id (keyset) order.
CREATE INDEX mission_list_customer ON mission_list (customer_id, mission_id);

-- walletList: one row per reward in a wallet.
CREATE TABLE wallet_list
(
    -- The Reward aggregate's id.
    reward_id     text   PRIMARY KEY,
    customer_id   text   NOT NULL,
    mission_id    text   NOT NULL,
    mission_code  text   NOT NULL,
    reward_status text   NOT NULL CHECK (reward_status IN ('ISSUED', 'EXCHANGED')),
    issued_at     text   NOT NULL,
    exchanged_at  text,
    product_code  text,
    gift_id       text,
    position      bigint NOT NULL,
    updated_at    text   NOT NULL
);

-- A customer's rewards, rewards by status, in reward_id (keyset) order.
CREATE INDEX wallet_list_customer ON wallet_list (customer_id, reward_id);
CREATE INDEX wallet_list_status ON wallet_list (reward_status, reward_id);

-- The mypage's missions and wallet: rows as in mission_list and wallet_list; user_id
-- is the customer_id.
CREATE TABLE mypage_missions
(
    user_id       text   NOT NULL,
    mission_id    text   PRIMARY KEY,
    customer_id   text   NOT NULL,
    mission_code  text   NOT NULL,
    achieved_at   text   NOT NULL,
    reward_id     text,
    reward_status text,
    product_code  text,
    gift_id       text,
    position      bigint NOT NULL,
    updated_at    text   NOT NULL
);

CREATE INDEX mypage_missions_user ON mypage_missions (user_id, mission_id);

CREATE TABLE mypage_wallet
(
    user_id       text   NOT NULL,
    reward_id     text   PRIMARY KEY,
    customer_id   text   NOT NULL,
    mission_id    text   NOT NULL,
    mission_code  text   NOT NULL,
    reward_status text   NOT NULL,
    issued_at     text   NOT NULL,
    exchanged_at  text,
    product_code  text,
    gift_id       text,
    position      bigint NOT NULL,
    updated_at    text   NOT NULL
);

CREATE INDEX mypage_wallet_user ON mypage_wallet (user_id, reward_id);
