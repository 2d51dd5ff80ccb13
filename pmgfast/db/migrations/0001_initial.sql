-- pmgfast schema, version 1: the shapes of PMG's Proxmox_ruledb (pmg-behaviour.md section 4),
-- adapted. Table and column names follow PMG so that PMG knowledge and queries carry over;
-- PostgreSQL folds the unquoted names to lower case. Adaptations are marked "pmgfast:".

-- ---------------------------------------------------------------------------------------
-- Rule database (4.1)
-- ---------------------------------------------------------------------------------------
CREATE TABLE Objectgroup (
    ID      serial PRIMARY KEY,
    Name    varchar(255) NOT NULL,
    Info    varchar(255) NOT NULL DEFAULT '',
    Class   varchar(10) NOT NULL CHECK (Class IN ('who', 'what', 'when', 'action', 'greylist'))
);
CREATE INDEX Objectgroup_Class_Index ON Objectgroup (Class);

CREATE TABLE Objectgroup_Attributes (
    Objectgroup_ID  integer NOT NULL REFERENCES Objectgroup (ID) ON DELETE CASCADE,
    Name            varchar(20) NOT NULL,
    Value           bytea NOT NULL,
    PRIMARY KEY (Objectgroup_ID, Name)
);

CREATE TABLE Object (
    ID              serial PRIMARY KEY,
    ObjectType      integer NOT NULL,
    Objectgroup_ID  integer NOT NULL REFERENCES Objectgroup (ID) ON DELETE CASCADE,
    Value           bytea NOT NULL DEFAULT '',
    Info            varchar(255) NOT NULL DEFAULT ''
);
CREATE INDEX Object_Objectgroup_Index ON Object (Objectgroup_ID);

CREATE TABLE Attribut (
    Object_ID   integer NOT NULL REFERENCES Object (ID) ON DELETE CASCADE,
    Name        varchar(20) NOT NULL,
    Value       bytea NOT NULL,
    PRIMARY KEY (Object_ID, Name)
);

CREATE TABLE Rule (
    ID          serial PRIMARY KEY,
    Name        varchar(255) NOT NULL,
    Priority    integer NOT NULL CHECK (Priority BETWEEN 0 AND 100),
    Active      integer NOT NULL DEFAULT 0,
    Direction   integer NOT NULL DEFAULT 2 CHECK (Direction IN (0, 1, 2)),
    Count       integer NOT NULL DEFAULT 0
);

CREATE TABLE RuleGroup (
    Objectgroup_ID  integer NOT NULL REFERENCES Objectgroup (ID) ON DELETE CASCADE,
    Rule_ID         integer NOT NULL REFERENCES Rule (ID) ON DELETE CASCADE,
    Grouptype       integer NOT NULL CHECK (Grouptype BETWEEN 0 AND 5),
    PRIMARY KEY (Objectgroup_ID, Rule_ID, Grouptype)
);

CREATE TABLE Rule_Attributes (
    Rule_ID integer NOT NULL REFERENCES Rule (ID) ON DELETE CASCADE,
    Name    varchar(20) NOT NULL,
    Value   bytea NOT NULL,
    PRIMARY KEY (Rule_ID, Name)
);

-- ---------------------------------------------------------------------------------------
-- Quarantine (4.2)
-- ---------------------------------------------------------------------------------------
CREATE SEQUENCE cmailstore_id_seq;
CREATE TABLE CMailStore (
    CID         integer NOT NULL DEFAULT 0,
    RID         integer NOT NULL,
    ID          integer NOT NULL DEFAULT nextval('cmailstore_id_seq'),
    Time        integer NOT NULL,
    QType       "char" NOT NULL CHECK (QType IN ('V', 'S', 'A', 'D')),
    Bytes       integer NOT NULL,
    Spamlevel   integer NOT NULL DEFAULT 0,
    Info        text,
    Sender      varchar(255) NOT NULL,
    Header      text,
    File        varchar(255) NOT NULL,
    PRIMARY KEY (CID, RID),
    UNIQUE (ID)
);
CREATE INDEX CMailStore_Time_Index ON CMailStore (Time);

CREATE TABLE CMSReceivers (
    CMailStore_CID  integer NOT NULL,
    CMailStore_RID  integer NOT NULL,
    PMail           varchar(255) NOT NULL,
    Receiver        varchar(255),
    TicketID        integer NOT NULL,
    Status          "char" NOT NULL DEFAULT 'N' CHECK (Status IN ('N', 'D')),
    Seen            "char" NOT NULL DEFAULT 'N' CHECK (Seen IN ('N', 'S')),
    SeenMTime       integer NOT NULL DEFAULT 0,
    MTime           integer NOT NULL,
    PRIMARY KEY (CMailStore_CID, CMailStore_RID, PMail),
    UNIQUE (CMailStore_CID, CMailStore_RID, TicketID),
    FOREIGN KEY (CMailStore_CID, CMailStore_RID) REFERENCES CMailStore (CID, RID) ON DELETE CASCADE
);
CREATE INDEX CMSReceivers_PMail_Index ON CMSReceivers (PMail);
CREATE INDEX CMSReceivers_MTime_Index ON CMSReceivers (MTime);

-- ---------------------------------------------------------------------------------------
-- Statistics (4.3). pmgfast: ID is bigserial (millions of rows a day), and CReceivers gains
-- the action and rule columns the statistics pages group by.
-- ---------------------------------------------------------------------------------------
CREATE TABLE CStatistic (
    CID         integer NOT NULL DEFAULT 0,
    RID         bigint NOT NULL,
    ID          bigserial UNIQUE,
    Time        integer NOT NULL,
    Bytes       integer NOT NULL,
    Direction   boolean NOT NULL,
    Spamlevel   real NOT NULL DEFAULT 0,
    VirusInfo   varchar(255),
    PTime       integer NOT NULL,
    Sender      varchar(255) NOT NULL,
    PRIMARY KEY (CID, RID)
);
CREATE INDEX CStatistic_Time_Index ON CStatistic (Time);

CREATE TABLE CReceivers (
    CStatistic_CID  integer NOT NULL,
    CStatistic_RID  bigint NOT NULL,
    Receiver        varchar(255) NOT NULL,
    Blocked         boolean NOT NULL DEFAULT false,
    Action          varchar(20),
    Rule            varchar(255),
    FOREIGN KEY (CStatistic_CID, CStatistic_RID) REFERENCES CStatistic (CID, RID) ON DELETE CASCADE
);
CREATE INDEX CReceivers_Index ON CReceivers (CStatistic_CID, CStatistic_RID);

CREATE TABLE DailyStat (
    Time            integer PRIMARY KEY,
    CountIn         integer NOT NULL DEFAULT 0,
    CountOut        integer NOT NULL DEFAULT 0,
    BytesIn         real NOT NULL DEFAULT 0,
    BytesOut        real NOT NULL DEFAULT 0,
    VirusIn         integer NOT NULL DEFAULT 0,
    VirusOut        integer NOT NULL DEFAULT 0,
    SpamIn          integer NOT NULL DEFAULT 0,
    SpamOut         integer NOT NULL DEFAULT 0,
    BouncesIn       integer NOT NULL DEFAULT 0,
    BouncesOut      integer NOT NULL DEFAULT 0,
    GreylistCount   integer NOT NULL DEFAULT 0,
    SPFCount        integer NOT NULL DEFAULT 0,
    RBLCount        integer NOT NULL DEFAULT 0,
    PTimeSum        real NOT NULL DEFAULT 0,
    MTime           integer NOT NULL DEFAULT 0
);

CREATE TABLE DomainStat (
    Time        integer NOT NULL,
    Domain      varchar(255) NOT NULL,
    CountIn     integer NOT NULL DEFAULT 0,
    CountOut    integer NOT NULL DEFAULT 0,
    BytesIn     real NOT NULL DEFAULT 0,
    BytesOut    real NOT NULL DEFAULT 0,
    VirusIn     integer NOT NULL DEFAULT 0,
    VirusOut    integer NOT NULL DEFAULT 0,
    SpamIn      integer NOT NULL DEFAULT 0,
    SpamOut     integer NOT NULL DEFAULT 0,
    BouncesIn   integer NOT NULL DEFAULT 0,
    BouncesOut  integer NOT NULL DEFAULT 0,
    PTimeSum    real NOT NULL DEFAULT 0,
    MTime       integer NOT NULL DEFAULT 0,
    PRIMARY KEY (Time, Domain)
);

CREATE TABLE VirusInfo (
    Time    integer NOT NULL,
    Name    varchar(255) NOT NULL,
    Count   integer NOT NULL DEFAULT 0,
    MTime   integer NOT NULL DEFAULT 0,
    PRIMARY KEY (Time, Name)
);

CREATE TABLE LocalStat (
    Time            integer NOT NULL,
    CID             integer NOT NULL DEFAULT 0,
    RBLCount        integer NOT NULL DEFAULT 0,
    PregreetCount   integer NOT NULL DEFAULT 0,
    MTime           integer NOT NULL DEFAULT 0,
    PRIMARY KEY (Time, CID)
);

CREATE TABLE StatInfo (
    Name    varchar(255) PRIMARY KEY,
    IValue  bigint,
    SValue  varchar(255)
);

CREATE TABLE ClusterInfo (
    CID     integer NOT NULL,
    Name    varchar(255) NOT NULL,
    IValue  bigint,
    SValue  varchar(255),
    PRIMARY KEY (CID, Name)
);

-- ---------------------------------------------------------------------------------------
-- User welcome/blocklists (4.4)
-- ---------------------------------------------------------------------------------------
CREATE TABLE UserPrefs (
    PMail   varchar(255) NOT NULL,
    Name    varchar(255) NOT NULL CHECK (Name IN ('WL', 'BL')),
    Data    text NOT NULL,
    MTime   integer NOT NULL,
    PRIMARY KEY (PMail, Name)
);
CREATE INDEX UserPrefs_MTime_Index ON UserPrefs (MTime);

-- ---------------------------------------------------------------------------------------
-- Greylisting (4.5)
-- ---------------------------------------------------------------------------------------
CREATE TABLE CGreylist (
    IPNet       varchar(49) NOT NULL,
    Sender      varchar(255) NOT NULL,
    Receiver    varchar(255) NOT NULL,
    Instance    varchar(255),
    RCTime      integer NOT NULL,
    ExTime      integer NOT NULL,
    Delay       integer NOT NULL DEFAULT 0,
    Blocked     integer NOT NULL,
    Passed      integer NOT NULL,
    CID         integer NOT NULL,
    MTime       integer NOT NULL,
    PRIMARY KEY (IPNet, Sender, Receiver)
);
CREATE INDEX CGreylist_Instance_Sender_Index ON CGreylist (Instance, Sender);
CREATE INDEX CGreylist_ExTime_Index ON CGreylist (ExTime);
CREATE INDEX CGreylist_MTime_Index ON CGreylist (MTime);

-- ---------------------------------------------------------------------------------------
-- pmgfast: Bayesian filter token counts (PMG keeps these in SpamAssassin's own store).
-- Token is the signed 64-bit mmh3 hash of the token text, identical in the Cython tokenizer
-- and its pure-Python twin.
-- ---------------------------------------------------------------------------------------
CREATE TABLE BayesToken (
    Token   bigint PRIMARY KEY,
    Spam    integer NOT NULL DEFAULT 0 CHECK (Spam >= 0),
    Ham     integer NOT NULL DEFAULT 0 CHECK (Ham >= 0),
    ATime   integer NOT NULL
);

CREATE TABLE BayesInfo (
    Name    varchar(64) PRIMARY KEY,
    Value   bigint NOT NULL
);
INSERT INTO BayesInfo (Name, Value) VALUES ('nspam', 0), ('nham', 0);

-- Messages already learned, so that learning the same mail twice does not count it twice.
CREATE TABLE BayesSeen (
    MsgID   varchar(255) PRIMARY KEY,
    Label   "char" NOT NULL CHECK (Label IN ('S', 'H')),
    Time    integer NOT NULL
);

-- ---------------------------------------------------------------------------------------
-- pmgfast: cluster nodes (PMG keeps these in /etc/pmg/cluster.conf; pmgfast keeps the node
-- table in the database that logical replication already carries).
-- ---------------------------------------------------------------------------------------
CREATE TABLE ClusterNode (
    CID         integer PRIMARY KEY,
    Name        varchar(255) NOT NULL UNIQUE,
    IP          inet NOT NULL,
    Type        varchar(10) NOT NULL CHECK (Type IN ('master', 'node')),
    Fingerprint varchar(255),
    HostRSAPubKey text,
    MTime       integer NOT NULL
);
