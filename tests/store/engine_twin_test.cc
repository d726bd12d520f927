// PgStore beside LmdbStore, on the PostgreSQL server of this process
// (store_engine.h); each test gets a fresh database. Most tests run the same
// batches on an LmdbStore and a PgStore and require the same completions
// (statuses, offsets, every field of every copy); the others cover what
// only PostgreSQL has: two stores on one database, an unreachable server,
// schema versions. In courier_store_tests_postgres (label postgres).
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <sstream>
#include <thread>

#include "lmdb_store.h"
#include "pg_store.h"
#include "store_engine.h"

namespace courier::storage {
namespace {

using courier::v1::Message;
using Kind = AdminOp::Kind;

// The server of this process (store_engine.h): COURIER_IT_PG, or one started
// at the first use.
std::string BaseConninfo() {
  std::string error;
  std::string conninfo = testing::SharedPgServer(&error);
  EXPECT_TRUE(error.empty()) << error;
  return conninfo;
}

void Exec(const std::string& db, const std::string& sql) {
  PGconn* c = PQconnectdb((BaseConninfo() + " dbname=" + db).c_str());
  ASSERT_EQ(PQstatus(c), CONNECTION_OK) << PQerrorMessage(c);
  PGresult* r = PQexec(c, sql.c_str());
  EXPECT_NE(PQresultStatus(r), PGRES_FATAL_ERROR) << sql << ": " << PQresultErrorMessage(r);
  PQclear(r), PQfinish(c);
}

// A fresh database, dropped at the end.
class FreshDb {
 public:
  FreshDb() {
    static int n = 0;
    name_ = "courier_smoke_" + std::to_string(getpid()) + "_" + std::to_string(n++);
    Exec("postgres", "CREATE DATABASE " + name_);
  }
  ~FreshDb() { Exec("postgres", "DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)"); }
  const std::string& name() const { return name_; }
  std::string conninfo() const { return BaseConninfo() + " dbname=" + name_; }

 private:
  std::string name_;
};

std::unique_ptr<PgStore> OpenPg(const std::string& conninfo) {
  std::unique_ptr<PgStore> s;
  Status st = PgStore::Open(PgOptions{.conninfo = conninfo, .reconnect_min_ms = 50, .reconnect_max_ms = 200}, {}, &s);
  EXPECT_TRUE(st.ok()) << st.ToString();
  return s;
}

// Every field of a completion, as text.
std::string Dump(const Completion& c) {
  std::ostringstream o;
  o << static_cast<int>(c.status.code()) << "|" << c.status.message() << "|";
  auto msg = [&](const Message& m) { o << "{" << m.ShortDebugString() << "}"; };
  auto due = [&](const PushDue& d) {
    o << "[" << d.user << "," << d.device << "," << d.offset << "," << d.app << "," << d.token << "," << d.id << ","
      << d.from_user << "," << d.from_device << "," << d.group << "," << d.user_offset << "," << d.priority << ","
      << d.undelivered << "," << d.created_ms << "," << d.payload << "]";
  };
  std::visit(
      [&](const auto& r) {
        using T = std::decay_t<decltype(r)>;
        if constexpr (std::is_same_v<T, AppendResult>) {
          o << r.duplicate << static_cast<int>(r.refused);
          msg(r.device_copy);
          for (size_t i = 0; i < r.receivers.size(); ++i) o << r.receivers[i], msg(r.receiver_copies[i]);
          for (const auto& d : r.pushes) due(d);
        } else if constexpr (std::is_same_v<T, ReceiptResult>) {
          o << r.changed << r.peer_user << r.peer.has_value() << r.recipients << r.received_count << r.read_count;
          msg(r.entry);
          if (r.peer) msg(*r.peer);
        } else if constexpr (std::is_same_v<T, PullResult>) {
          o << r.head << "," << r.reached;
          for (const auto& m : r.entries) msg(m);
        } else if constexpr (std::is_same_v<T, MembersResult>) {
          for (const auto& m : r.members) o << m << ",";
        } else if constexpr (std::is_same_v<T, ExpireResult>) {
          for (const auto& e : r.expired) o << e.receiver << e.sender_offset, msg(e.entry);
        } else if constexpr (std::is_same_v<T, TrimResult>) {
          o << r.removed;
        } else if constexpr (std::is_same_v<T, AdminResult>) {
          for (const auto& a : r.results) {
            o << "(" << static_cast<int>(a.status.code()) << a.status.message() << "," << a.head << "," << a.undelivered
              << "," << a.user_offset;
            for (const auto& n : a.names) o << "," << n;
            for (const auto& [d, c] : a.cursors) o << "," << d << "=" << c;
            for (const auto& p : a.push_regs) o << "," << p.device << p.app << p.token << p.registered_ms << p.due;
            o << ")";
          }
        } else if constexpr (std::is_same_v<T, PushRegisterResult>) {
          o << r.existed;
        } else if constexpr (std::is_same_v<T, PushDoneResult>) {
          o << r.removed;
        } else if constexpr (std::is_same_v<T, PushScanResult>) {
          for (const auto& d : r.due) due(d);
          for (unsigned char ch : r.next_key) o << std::hex << int(ch) << ".";
        }
      },
      c.result);
  return o.str();
}

AppendRequest ToUser(const std::string& from, const std::string& to, const std::string& id, int64_t ts = 1000,
                     int64_t expires_ms = 0) {
  AppendRequest r;
  r.sender = from;
  r.receivers = {to};
  r.conversation = "u:" + std::min(from, to) + "|" + std::max(from, to);
  r.message.set_id(id);
  r.message.mutable_from()->set_user(from);
  r.message.mutable_from()->set_device("phone");
  r.message.mutable_to()->set_user(to);
  r.message.set_payload("hi " + id);
  r.message.set_server_timestamp(ts);
  r.expires_ms = expires_ms;
  return r;
}
AppendRequest ToGroup(const std::string& from, const std::string& g, const std::string& id) {
  AppendRequest r = ToUser(from, "", id);
  r.receivers.clear();
  r.group = g;
  r.conversation = "g:" + g;
  r.message.mutable_to()->Clear();
  r.message.mutable_to()->set_group(g);
  return r;
}
ReceiptRequest Receipt(const std::string& user, const std::string& device, int32_t off, bool read) {
  return ReceiptRequest{.user = user, .device = device, .offset = off, .received = true, .read = read};
}
PullRequest Pull(const std::string& user, int32_t after, uint32_t limit = 100, int64_t now = 0) {
  return PullRequest{.user = user, .device = "phone", .after = after, .limit = limit, .now_ms = now};
}
AdminRequest Admin(std::vector<AdminOp> ops) { return AdminRequest{.ops = std::move(ops)}; }

class PgTwinTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = std::make_unique<FreshDb>();
    pg_ = OpenPg(db_->conninfo());
    char tmpl[] = "/tmp/courier-pgsmoke-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    LmdbOptions o;
    o.path = dir_ + "/db";
    o.map_size_mb = 16;
    o.sync = SyncMode::kOs;
    ASSERT_TRUE(LmdbStore::Open(o, &lmdb_).ok());
  }
  void TearDown() override {
    lmdb_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  // Runs `batch` on both stores in one Flush; requires the same completions.
  std::vector<Completion> Run(std::vector<Request> batch) {
    for (const auto& r : batch) lmdb_->Submit(r), pg_->Submit(r);
    auto want = lmdb_->Flush();
    auto got = pg_->Flush();
    EXPECT_EQ(want.size(), got.size());
    for (size_t i = 0; i < std::min(want.size(), got.size()); ++i) {
      EXPECT_EQ(Dump(want[i]), Dump(got[i])) << i;
      if (std::getenv("COURIER_SMOKE_DUMP")) std::printf("%s\n", Dump(got[i]).c_str());
    }
    return got;
  }
  Completion One(Request r) { return std::move(Run({std::move(r)}).at(0)); }

  std::unique_ptr<FreshDb> db_;
  std::unique_ptr<PgStore> pg_;
  std::unique_ptr<LmdbStore> lmdb_;
  std::string dir_;
};

TEST_F(PgTwinTest, OneToOneDedupAndPull) {
  auto c = Run({ToUser("alice", "bob", "m1"), ToUser("alice", "bob", "m2"), ToUser("alice", "bob", "m1"),
                ToUser("bob", "alice", "r1"), Pull("bob", 0), Pull("bob", -1, 1)});
  EXPECT_TRUE(std::get<AppendResult>(c.at(2).result).duplicate);
  EXPECT_TRUE(std::get<AppendResult>(One(ToUser("alice", "bob", "m2")).result).duplicate);
  Run({Pull("bob", 1, 10), Pull("alice", 0, 0), Pull("nobody", -1)});
  Run({ToUser("alice", "alice", "x"), ToUser("", "bob", "y"), ToUser("alice", std::string(600, 'z'), "z"),
       ToUser("carol", "bob", "c1")});
}

TEST_F(PgTwinTest, ReceiptsUpToReadWithThePeerCopy) {
  Run({ToUser("alice", "bob", "m1"), ToUser("alice", "bob", "m2")});
  Run({Receipt("bob", "phone", 1, false), Receipt("bob", "phone", 1, true), Receipt("bob", "tablet", 2, true)});
  Run({Receipt("alice", "phone", 1, true), Receipt("bob", "phone", 9, true), Receipt("bob", "phone", 0, true)});
  Run({ToUser("alice", "bob", "m3"), Receipt("bob", "phone", 3, true), Pull("bob", -1), Pull("alice", 0)});
  Run({Admin({AdminOp{.kind = Kind::kGetUser, .user = "bob"}, AdminOp{.kind = Kind::kGetUser, .user = "alice"}})});
}

TEST_F(PgTwinTest, GroupsAndMembershipInOneBatch) {
  Run({Admin({AdminOp{.kind = Kind::kCreateGroup, .group = "fam", .members = {"alice", "bob", "carol"}, .now_ms = 5},
              AdminOp{.kind = Kind::kCreateGroup, .group = "fam"}}),
       ToGroup("alice", "fam", "g1"), ToGroup("mallory", "fam", "g2"), ToGroup("alice", "nope", "g3"),
       MembersRequest{.user = "bob", .group = "fam"}, MembersRequest{.user = "zed", .group = "fam"}});
  Run({Receipt("bob", "p", 1, false), Receipt("carol", "p", 1, true), Receipt("bob", "p", 1, true)});
  // A member added in the batch gets the next message: its head is locked late.
  Run({Admin({AdminOp{.kind = Kind::kAddMember, .group = "fam", .user = "dave", .max_members = 10},
              AdminOp{.kind = Kind::kAddMember, .group = "fam", .user = "erin", .max_members = 4},
              AdminOp{.kind = Kind::kRemoveMember, .group = "fam", .user = "carol"},
              AdminOp{.kind = Kind::kRemoveMember, .group = "fam", .user = "carol"}}),
       ToGroup("bob", "fam", "g4"), Pull("dave", 0), Pull("alice", 0)});
  Run({Admin({AdminOp{.kind = Kind::kListGroups},
              AdminOp{.kind = Kind::kGetGroup, .group = "fam", .conversation = "g:fam"},
              AdminOp{.kind = Kind::kDeleteGroup, .group = "fam"}, AdminOp{.kind = Kind::kDeleteGroup, .group = "fam"},
              AdminOp{.kind = Kind::kGetGroup, .group = "fam"}}),
       ToGroup("bob", "fam", "g5")});
}

TEST_F(PgTwinTest, EditRecallAndLimits) {
  Run({ToUser("alice", "bob", "m1", 1000), ToUser("alice", "bob", "m2", 1000)});
  AppendRequest edit = ToUser("alice", "bob", "e1", 2000);
  edit.message.set_replaces("m1");
  edit.message.set_payload("edited");
  AppendRequest edit2 = ToUser("alice", "bob", "e2", 2000);
  edit2.message.set_replaces("m1");
  edit2.message.set_payload("edited again");
  AppendRequest recall = ToUser("alice", "bob", "x1", 3000);
  recall.message.set_replaces("m1");
  recall.message.set_recall(true);
  AppendRequest late = ToUser("alice", "bob", "e3", 3000);
  late.message.set_replaces("m2");
  late.replace_not_before_ms = 1500;
  AppendRequest other = ToUser("alice", "carol", "e4", 3000);
  other.message.set_replaces("m2");
  AppendRequest unknown = ToUser("alice", "bob", "e5", 3000);
  unknown.message.set_replaces("nope");
  Run({edit, edit2, late, other, unknown, Pull("bob", 0)});
  Run({recall, edit, Pull("bob", 0), Pull("alice", 0)});
  AppendRequest again = recall;
  again.message.set_id("x2");
  Run({again});
  AppendRequest capped = ToUser("carol", "bob", "c1");
  capped.max_undelivered = 2;
  Run({capped, Receipt("bob", "p", 1, false), Receipt("bob", "p", 2, false), capped});
}

TEST_F(PgTwinTest, ExpireSkipsAndMarks) {
  Run({ToUser("alice", "bob", "m1", 1000, 5000), ToUser("alice", "bob", "m2", 1000, 6000),
       ToUser("alice", "carol", "m3", 1000, 5000), ToUser("alice", "bob", "m4", 1000)});
  Run({Receipt("bob", "phone", 2, false)});
  Run({Pull("bob", 0, 100, 5500), Pull("bob", 0, 1, 7000)});
  Run({ExpireRequest{.now_ms = 5500, .max_entries = 1}, ExpireRequest{.now_ms = 7000, .max_entries = 10}});
  Run({ExpireRequest{.now_ms = 9000, .max_entries = 10}, Pull("bob", 0), Pull("carol", 0),
       Admin({AdminOp{.kind = Kind::kGetUser, .user = "bob"}})});
}

TEST_F(PgTwinTest, TrimRemovesWhatEveryDeviceHas) {
  std::vector<Request> b;
  for (int i = 1; i <= 6; ++i) b.push_back(ToUser("alice", "bob", "m" + std::to_string(i), i * 100, 10000));
  Run(b);
  Run({Receipt("bob", "phone", 4, true), Receipt("bob", "tablet", 3, false), Receipt("alice", "phone", 6, false)});
  Run({TrimRequest{.older_than_ms = 10000, .max_entries = 2}});
  Run({TrimRequest{.older_than_ms = 10000, .max_entries = 2}, TrimRequest{.older_than_ms = 250, .max_entries = 100}});
  Run({TrimRequest{.older_than_ms = 10000, .max_entries = 100}, Pull("bob", 0), Pull("alice", 0),
       ToUser("alice", "bob", "m1"), Admin({AdminOp{.kind = Kind::kGetUser, .user = "bob"}})});
  Run({TrimRequest{.older_than_ms = 10000, .max_entries = 100}, ExpireRequest{.now_ms = 20000, .max_entries = 100}});
}

TEST_F(PgTwinTest, PushDueScanAndDone) {
  Run({PushRegisterRequest{.user = "bob", .device = "phone", .app = "a", .token = "t1", .now_ms = 7},
       PushRegisterRequest{.user = "bob", .device = "tab", .app = "a", .token = "t2", .now_ms = 8},
       PushRegisterRequest{.user = "bob", .device = "tab", .app = "a", .token = "t3", .now_ms = 9},
       PushRegisterRequest{.user = "", .device = "x", .app = "a", .token = "t"}});
  AppendRequest p1 = ToUser("alice", "bob", "m1");
  p1.push = true;
  AppendRequest p2 = ToUser("carol", "bob", "m2");
  p2.push = p2.push_payload = true;
  Run({p1, p2, PushScanRequest{.after_key = "", .limit = 3}});
  auto scan = One(PushScanRequest{.after_key = "", .limit = 1});
  One(PushScanRequest{.after_key = std::get<PushScanResult>(scan.result).next_key, .limit = 10});
  Run({PushScanRequest{.after_key = "", .limit = 0}, Receipt("bob", "phone", 1, false),
       PushScanRequest{.after_key = "", .limit = 10}, Admin({AdminOp{.kind = Kind::kListPush, .user = "bob"}})});
  Run({PushDoneRequest{.done = {{"bob", "tab", 2}, {"bob", "tab", 2}, {"bob", "x", 1}},
                       .unregister = {{"bob", "phone", 0}}},
       Admin({AdminOp{.kind = Kind::kListPush, .user = "bob"},
              AdminOp{.kind = Kind::kRemovePush, .user = "bob", .device = "tab"},
              AdminOp{.kind = Kind::kRemovePush, .user = "bob", .device = "tab"}}),
       PushScanRequest{.after_key = "", .limit = 10}});
}

// Two edges (stores) on one database append to the same receivers from two
// threads, locking them in opposite request order: no deadlock reaches a
// client, and the receivers' offsets have no gap and no duplicate.
TEST(PgStoreTest, TwoEdgesAppendingToTheSameReceivers) {
  FreshDb db;
  auto first = OpenPg(db.conninfo());
  auto second = OpenPg(db.conninfo());
  constexpr int kBatches = 40, kPerBatch = 20;
  std::atomic<int> failures{0};
  auto edge = [&](PgStore* s, const std::string& sender, bool reverse) {
    for (int b = 0; b < kBatches; ++b) {
      for (int i = 0; i < kPerBatch; ++i) {
        AppendRequest r;
        r.sender = sender;
        r.receivers = reverse ? std::vector<std::string>{"r2", "r1"} : std::vector<std::string>{"r1", "r2"};
        r.conversation = sender + (i % 2 ? "|odd" : "|even");
        r.message.set_id(std::to_string(b * 1000 + i));
        r.message.mutable_from()->set_user(sender);
        s->Submit(std::move(r));
      }
      for (const auto& c : s->Flush()) failures += !c.status.ok();
    }
  };
  std::thread a(edge, first.get(), "s1", false), b(edge, second.get(), "s2", true);
  a.join();
  b.join();
  EXPECT_EQ(failures.load(), 0);
  for (const std::string user : {"r1", "r2"}) {
    first->Submit(PullRequest{.user = user, .device = "d", .after = 0, .limit = 100000});
    auto done = first->Flush();
    ASSERT_TRUE(done.at(0).status.ok());
    const auto& pr = std::get<PullResult>(done[0].result);
    ASSERT_EQ(pr.entries.size(), size_t{2 * kBatches * kPerBatch});
    std::set<std::string> ids;
    for (size_t i = 0; i < pr.entries.size(); ++i) {
      EXPECT_EQ(pr.entries[i].signal_offset(), static_cast<int32_t>(i + 1));
      ids.insert(pr.entries[i].from().user() + "/" + pr.entries[i].id());
    }
    EXPECT_EQ(ids.size(), pr.entries.size());
  }
}

// A TCP forwarder on a loopback port to the test server: the database
// "comes up" when it starts.
class Forwarder {
 public:
  Forwarder() {
    listener_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a = Loopback(0);
    int one = 1;
    setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    bind(listener_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    getsockname(listener_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);  // bound, not listening: connections are refused
  }
  ~Forwarder() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    close(listener_);
  }
  int port() const { return port_; }
  void Start(int target_port) {
    listen(listener_, 16);
    thread_ = std::thread([this, target_port] {
      std::vector<std::thread> pipes;
      while (!stop_) {
        pollfd p{listener_, POLLIN, 0};
        if (poll(&p, 1, 50) <= 0) continue;
        int in = accept(listener_, nullptr, nullptr);
        int out = socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a = Loopback(target_port);
        if (connect(out, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
          close(in), close(out);
          continue;
        }
        pipes.emplace_back([this, in, out] { Pipe(in, out); });
      }
      for (auto& t : pipes) t.join();
    });
  }

 private:
  static sockaddr_in Loopback(int port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<uint16_t>(port));
    return a;
  }
  void Pipe(int x, int y) {
    char buf[65536];
    for (bool open = true; open && !stop_;) {
      pollfd p[2] = {{x, POLLIN, 0}, {y, POLLIN, 0}};
      if (poll(p, 2, 50) <= 0) continue;
      for (int i = 0; i < 2 && open; ++i) {
        if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        ssize_t n = read(p[i].fd, buf, sizeof buf);
        open = n > 0 && write(p[1 - i].fd, buf, n) == n;
      }
    }
    close(x), close(y);
  }
  int listener_ = -1, port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

std::string Param(const std::string& conninfo, const std::string& key) {
  PQconninfoOption* opts = PQconninfoParse(conninfo.c_str(), nullptr);
  std::string v;
  for (auto* o = opts; o && o->keyword; ++o) v = key == o->keyword && o->val ? o->val : v;
  PQconninfoFree(opts);
  return v;
}

TEST(PgStoreTest, UnreachableAtOpenThenRecovers) {
  FreshDb db;
  Forwarder fwd;
  const std::string conninfo =
      db.conninfo() + " host=127.0.0.1 port=" + std::to_string(fwd.port()) + " password=sekrit";
  std::vector<std::string> lines;
  std::unique_ptr<PgStore> s;
  PgOptions o{.conninfo = conninfo, .connect_timeout_s = 2, .reconnect_min_ms = 100, .reconnect_max_ms = 400};
  ASSERT_TRUE(PgStore::Open(
                  o, [&](const std::string& l) { lines.push_back(l); }, &s)
                  .ok());
  s->Submit(PullRequest{.user = "u", .device = "d", .after = 0, .limit = 1});
  auto done = s->Flush();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].status.code(), Status::Code::kIoError);
  EXPECT_NE(done[0].status.message().find("store_unavailable"), std::string::npos) << done[0].status.message();
  EXPECT_EQ(done[0].status.message().find("sekrit"), std::string::npos);
  const std::string port = Param(BaseConninfo(), "port");
  fwd.Start(port.empty() ? 5432 : std::stoi(port));
  s->Submit(PullRequest{.user = "u", .device = "d", .after = 0, .limit = 1});
  EXPECT_EQ(s->Flush().at(0).status.code(), Status::Code::kIoError) << "still in backoff";
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  s->Submit(PullRequest{.user = "u", .device = "d", .after = 0, .limit = 1});
  done = s->Flush();
  EXPECT_TRUE(done.at(0).status.ok()) << done[0].status.ToString();
  Exec(db.name(),
       "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database()"
       " AND pid <> pg_backend_pid()");
  s->Submit(PullRequest{.user = "u", .device = "d", .after = 0, .limit = 1});
  done = s->Flush();
  EXPECT_TRUE(done.at(0).status.ok()) << "a connection closed while idle is opened again: "
                                      << done[0].status.ToString();
  for (const auto& l : lines) EXPECT_EQ(l.find("sekrit"), std::string::npos) << l;
  EXPECT_EQ(PgStore::Describe(conninfo).find("sekrit"), std::string::npos);
}

TEST(PgStoreTest, StoreFailureUnknownSchemaVersionAndBadConninfo) {
  FreshDb db;
  auto s = OpenPg(db.conninfo());
  Exec(db.name(), "INSERT INTO courier_heads (usr, head) VALUES ('\\x62'::bytea, 2147483647)");  // "b"
  s->Submit(ToUser("c", "d", "1")), s->Submit(ToUser("a", "b", "2"));
  for (const auto& c : s->Flush()) EXPECT_EQ(c.status.code(), Status::Code::kIoError) << "the whole batch fails";
  s->Submit(Pull("d", 0));
  EXPECT_EQ(std::get<PullResult>(s->Flush().at(0).result).head, 0) << "nothing of the batch was written";
  Exec(db.name(), "UPDATE courier_schema SET version = 99");
  Status st = PgStore::Open(PgOptions{.conninfo = db.conninfo()}, {}, &s);
  EXPECT_EQ(st.code(), Status::Code::kCorruption) << st.ToString();
  EXPECT_NE(st.message().find("99"), std::string::npos) << st.message();
  EXPECT_EQ(s, nullptr);
  st = PgStore::Open(PgOptions{.conninfo = "host=127.0.0.1 port"}, {}, &s);
  EXPECT_EQ(st.code(), Status::Code::kInvalid) << st.ToString();
}

// Appends per second of one store, batches of 100 (run with
// --gtest_also_run_disabled_tests).
TEST_F(PgTwinTest, DISABLED_Throughput) {
  ASSERT_TRUE(LmdbStore::Open(LmdbOptions{.path = dir_ + "/full"}, &lmdb_).ok());  // sync full, like postgres
  for (Store* s : {static_cast<Store*>(lmdb_.get()), static_cast<Store*>(pg_.get())}) {
    const auto t0 = std::chrono::steady_clock::now();
    constexpr int kBatches = 100;
    for (int b = 0; b < kBatches; ++b) {
      for (int i = 0; i < 100; ++i) {
        AppendRequest r =
            ToUser("s" + std::to_string(i % 10), "r" + std::to_string(i % 7), std::to_string(b * 100 + i));
        r.message.set_payload(std::string(200, 'x'));
        s->Submit(std::move(r));
      }
      for (const auto& c : s->Flush()) ASSERT_TRUE(c.status.ok()) << c.status.ToString();
    }
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("%s: %.0f appends/s\n", s == pg_.get() ? "postgres" : "lmdb", kBatches * 100 / secs);
  }
}

}  // namespace
}  // namespace courier::storage
