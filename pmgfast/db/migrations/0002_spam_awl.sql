-- pmgfast: the spam engine's auto-welcomelist (spam.use_awl; PMG uses SpamAssassin's AWL).
-- One row per sender address and the network it sends from (/16 for IPv4, /48 for IPv6):
-- how many messages were scored and their summed score, so the engine can move a new score
-- half-way towards that sender's history.
CREATE TABLE SpamAWL (
    Address     varchar(255) NOT NULL,
    IPNet       varchar(49) NOT NULL,
    Count       integer NOT NULL CHECK (Count >= 0),
    TotalScore  double precision NOT NULL,
    MTime       integer NOT NULL,
    PRIMARY KEY (Address, IPNet)
);
CREATE INDEX SpamAWL_MTime_Index ON SpamAWL (MTime);
