// The LMDB to PostgreSQL migration (storage/postgres/pg_import.h): a store
// filled through LmdbStore is copied; the PostgreSQL Reader then gives what
// the LMDB Reader gives, and a PgStore on the copy continues exactly as the
// LmdbStore does. On the suite's server (label postgres).
#include "pg_migrate_fixture.h"

#include <chrono>
#include <cstdio>
#include <regex>

#include "lmdb_reader.h"
#include "lmdb_testing.h"
#include "pg_import.h"
#include "pg_reader.h"

namespace courier::storage::migrate_test {
namespace {

std::unique_ptr<Reader> LmdbReaderOf(const std::string& path) {
  std::unique_ptr<Reader> r;
  EXPECT_TRUE(OpenLmdbReader(path, &r).ok());
  return r;
}

std::unique_ptr<Reader> PgReaderOf(const std::string& conninfo) {
  std::unique_ptr<Reader> r;
  Status s = OpenPgReader(conninfo, &r);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return r;
}

Status Migrate(const std::string& path, const std::string& conninfo, ImportCounts* n) {
  auto from = LmdbReaderOf(path);
  return ImportIntoPg(*from, conninfo, n);
}

// The completion's result, for the fields a client sees.
std::string Dump(const Completion& c) {
  std::ostringstream o;
  o << static_cast<int>(c.status.code()) << "|";
  std::visit(
      [&](const auto& r) {
        using T = std::decay_t<decltype(r)>;
        if constexpr (std::is_same_v<T, AppendResult>) {
          o << r.duplicate << static_cast<int>(r.refused) << Text(r.device_copy);
          for (size_t i = 0; i < r.receivers.size(); ++i) o << r.receivers[i] << Text(r.receiver_copies[i]);
          for (const auto& d : r.pushes) o << "[" << d.user << d.device << d.offset << d.undelivered << "]";
        } else if constexpr (std::is_same_v<T, ReceiptResult>) {
          o << r.changed << r.peer_user << r.recipients << r.received_count << r.read_count << Text(r.entry);
          if (r.peer) o << Text(*r.peer);
        } else if constexpr (std::is_same_v<T, PullResult>) {
          o << r.head << "," << r.reached;
          for (const auto& m : r.entries) o << Text(m);
        } else if constexpr (std::is_same_v<T, ExpireResult>) {
          for (const auto& e : r.expired) o << e.receiver << e.sender_offset << Text(e.entry);
        } else if constexpr (std::is_same_v<T, TrimResult>) {
          o << r.removed;
        } else if constexpr (std::is_same_v<T, PushScanResult>) {
          for (const auto& d : r.due) o << "[" << d.user << d.device << d.offset << d.id << d.payload << "]";
        } else if constexpr (std::is_same_v<T, AdminResult>) {
          for (const auto& a : r.results) {
            o << "(" << a.head << "," << a.undelivered << "," << a.user_offset;
            for (const auto& [d, cur] : a.cursors) o << "," << d << "=" << cur;
            o << ")";
          }
        }
      },
      c.result);
  return o.str();
}

class MigrateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto lmdb = OpenLmdb(dir_.store());
    FillSource(*lmdb);
  }
  TempDir dir_;
  FreshDb db_;
};

TEST_F(MigrateTest, TheCopyReadsLikeTheSource) {
  ImportCounts n;
  Status s = Migrate(dir_.store(), db_.conninfo(), &n);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(n.users, 5);  // alice, bob, carol, dan, erin
  EXPECT_EQ(n.groups, 1);
  EXPECT_EQ(n.push_regs, 2);
  EXPECT_EQ(n.due_pushes, 1);
  auto lmdb = LmdbReaderOf(dir_.store());
  auto pg = PgReaderOf(db_.conninfo());
  const std::string want = DumpReader(*lmdb);
  EXPECT_EQ(want, DumpReader(*pg));
  // What the source must hold for the comparison to mean something.
  for (const char* part : {"head dan=2", "edited: true", "recalled: true", "exp=1", "read=1", "due bob/phone/",
                           "cursor dan/phone=2", "received_count: 1"}) {
    EXPECT_NE(want.find(part), std::string::npos) << part;
  }
  EXPECT_EQ(want.find("entry dan/"), std::string::npos);  // trimmed
  EXPECT_EQ(pg->schema_version(), std::to_string(PgStore::kSchemaVersion));
  EXPECT_EQ(pg->StoredCopies(), static_cast<int64_t>(n.entries));
  MessageSpace space;
  EXPECT_TRUE(pg->ScanMessageSpace(&space).ok());
  EXPECT_EQ(space.bodies.records, n.bodies);
}

TEST_F(MigrateTest, APgStoreOnTheCopyContinuesLikeTheSource) {
  ImportCounts n;
  ASSERT_TRUE(Migrate(dir_.store(), db_.conninfo(), &n).ok());
  auto lmdb = OpenLmdb(dir_.store());
  auto pg = OpenPg(db_.conninfo());
  auto twin = [&](std::vector<Request> batch) {
    for (const auto& r : batch) lmdb->Submit(r), pg->Submit(r);
    auto want = lmdb->Flush();
    auto got = pg->Flush();
    EXPECT_EQ(want.size(), got.size());
    for (size_t i = 0; i < std::min(want.size(), got.size()); ++i) EXPECT_EQ(Dump(want[i]), Dump(got[i])) << i;
    return got;
  };
  auto c = twin({ToUser("alice", "bob", "n1", 2000), ToUser("alice", "bob", "m5", 2000), ToUser("erin", "dan", "d3")});
  const auto& fresh = std::get<AppendResult>(c[0].result);
  EXPECT_EQ(fresh.receiver_copies.at(0).signal_offset(), 12);  // bob's head was 11
  EXPECT_EQ(fresh.device_copy.user_offset(), 10);              // alice|bob's conversation counter was 9
  const auto& resend = std::get<AppendResult>(c[1].result);
  EXPECT_TRUE(resend.duplicate);
  EXPECT_EQ(resend.device_copy.signal_offset(), 5);
  EXPECT_EQ(std::get<AppendResult>(c[2].result).receiver_copies.at(0).signal_offset(), 3);  // dan's head was 2
  twin({Receipt("bob", "phone", 5, true), Receipt("bob", "phone", 4, false), Receipt("alice", "phone", 7, true)});
  twin({Replacing(ToUser("alice", "bob", "e3", 2100), "m4", false), ToGroup("bob", "fam", "g2"),
        PushScanRequest{.after_key = "", .limit = 10}});
  twin({ExpireRequest{.now_ms = 5000000000000, .max_entries = 100}});
  twin({PullRequest{.user = "bob", .device = "phone", .after = 0, .limit = 100},
        PullRequest{.user = "alice", .device = "phone", .after = -1, .limit = 100},
        PullRequest{.user = "carol", .device = "tab", .after = 0, .limit = 100},
        PullRequest{.user = "dan", .device = "phone", .after = -1, .limit = 100},
        AdminRequest{.ops = {AdminOp{.kind = Kind::kGetUser, .user = "bob"},
                             AdminOp{.kind = Kind::kGetUser, .user = "carol"}}}});
  twin({TrimRequest{.older_than_ms = 1500, .max_entries = 100}});
  lmdb.reset();
  pg.reset();
  // PgStore hands out body sequences from a pool, with gaps: bodies appended
  // after the migration may get other numbers than LMDB's.
  auto no_seqs = [](const std::string& dump) {
    return std::regex_replace(dump, std::regex("(body=|edits: |body_seq )[0-9]+"), "$1#");
  };
  EXPECT_EQ(no_seqs(DumpReader(*LmdbReaderOf(dir_.store()))), no_seqs(DumpReader(*PgReaderOf(db_.conninfo()))));
}

TEST_F(MigrateTest, ANonEmptyTargetIsRefusedAndKeptAsItWas) {
  {
    auto pg = OpenPg(db_.conninfo());
    RunOk(*pg, {ToUser("zed", "yan", "z1")});
  }
  const std::string before = DumpReader(*PgReaderOf(db_.conninfo()));
  ImportCounts n;
  Status s = Migrate(dir_.store(), db_.conninfo(), &n);
  EXPECT_EQ(s.code(), Status::Code::kInvalid);
  EXPECT_NE(s.message().find("not empty"), std::string::npos) << s.message();
  EXPECT_EQ(n.entries, 0);
  EXPECT_EQ(before, DumpReader(*PgReaderOf(db_.conninfo())));
  // A second migration into a migrated database is refused too.
  FreshDb other;
  ASSERT_TRUE(Migrate(dir_.store(), other.conninfo(), &n).ok());
  EXPECT_EQ(Migrate(dir_.store(), other.conninfo(), &n).code(), Status::Code::kInvalid);
}

// More copies than one INSERT and one read of the Reader take: every batch
// boundary of the import is crossed. Prints how long the copy took.
TEST(MigrateScaleTest, ThirtyThousandMessagesInBatches) {
  TempDir dir;
  FreshDb db;
  constexpr int kMessages = 30000, kUsers = 200;
  {
    auto lmdb = OpenLmdb(dir.store());
    std::vector<Request> batch;
    for (int i = 0; i < kMessages; ++i) {
      batch.push_back(ToUser("u" + std::to_string(i % kUsers), "u" + std::to_string((i * 7 + 1) % kUsers),
                             "m" + std::to_string(i), 1000 + i));
      if (batch.size() == 1000) {
        RunOk(*lmdb, std::move(batch));
        batch.clear();
      }
    }
  }
  ImportCounts n;
  const auto start = std::chrono::steady_clock::now();
  Status s = Migrate(dir.store(), db.conninfo(), &n);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_TRUE(s.ok()) << s.ToString();
  std::printf("migrated %d messages (%lld copies) in %.2f s\n", kMessages, static_cast<long long>(n.entries), seconds);
  EXPECT_EQ(n.entries, 2 * kMessages);
  EXPECT_EQ(n.bodies, kMessages);
  EXPECT_EQ(n.dedup, kMessages);
  EXPECT_EQ(n.users, kUsers);
  EXPECT_EQ(DumpReader(*LmdbReaderOf(dir.store())), DumpReader(*PgReaderOf(db.conninfo())));
}

// A group record that does not parse (written past the store's API) is
// refused by name after the logs were sent: the transaction goes, nothing
// stays in the target.
TEST_F(MigrateTest, ARecordThatDoesNotDecodeIsNamedAndNothingIsWritten) {
  ASSERT_TRUE(WriteGroupRecordForTesting(dir_.store(), "broken", "\xff\xff\xff").ok());
  ImportCounts n;
  Status s = Migrate(dir_.store(), db_.conninfo(), &n);
  EXPECT_EQ(s.code(), Status::Code::kCorruption);
  EXPECT_NE(s.message().find("group 'broken'"), std::string::npos) << s.message();
  for (const auto& t : PgReaderOf(db_.conninfo())->Tables()) {
    EXPECT_EQ(t.records, t.name == "courier_schema" ? 1 : 0) << t.name;
  }
}

TEST(MigrateFailureTest, AnUnreachableDatabaseIsAnIoError) {
  TempDir dir;
  OpenLmdb(dir.store());
  ImportCounts n;
  EXPECT_EQ(Migrate(dir.store(), "host=127.0.0.1 port=1 user=postgres connect_timeout=2", &n).code(),
            Status::Code::kIoError);
  std::unique_ptr<Reader> r;
  EXPECT_EQ(OpenPgReader("host=127.0.0.1 port=1 connect_timeout=2", &r).code(), Status::Code::kIoError);
  FreshDb empty;
  EXPECT_EQ(OpenPgReader(empty.conninfo(), &r).code(), Status::Code::kNotFound);
}

}  // namespace
}  // namespace courier::storage::migrate_test
