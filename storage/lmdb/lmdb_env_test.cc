// The dup-sort wrappers of lmdb_env.h (Txn, Cursor) on a real LMDB
// environment in a temporary directory, on a table shaped like `copies`.
#include "lmdb_env.h"

#include <gtest/gtest.h>
#include <lmdb.h>

#include <string>
#include <vector>

#include "keys.h"
#include "test_util.h"

namespace courier::storage {
namespace {

using courier::testing::TempDir;

// A MDB_DUPSORT | MDB_DUPFIXED table of copy records, as `copies` uses it:
// appends with MDB_APPENDDUP, seeks by offset, rewrites in place with
// MDB_CURRENT, deletes one value. Sizes cover a single value, values in a
// sub-page and values in a sub-database. One scenario in steps, each step
// checking the table the previous ones left.
class LmdbDupFixed : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(mdb_env_set_maxdbs(env_.get(), 4), MDB_SUCCESS);
    ASSERT_EQ(mdb_env_set_mapsize(env_.get(), 64u << 20), MDB_SUCCESS);
    ASSERT_EQ(mdb_env_open(env_.get(), dir_.path().c_str(), MDB_NOSYNC, 0600), MDB_SUCCESS);
  }

  static std::string User(int n) { return "u" + std::to_string(n); }

  // Creates the table and appends records 1..n of each user "u<n>".
  void AppendInterleaved() {
    Txn txn(env_.get(), false);
    ASSERT_EQ(mdb_dbi_open(txn.get(), "copies", MDB_CREATE | MDB_DUPSORT | MDB_DUPFIXED, &dbi_), MDB_SUCCESS);
    // Users interleaved, as appends arrive.
    for (int i = 1; i <= 3000; ++i) {
      for (int n : kSizes) {
        if (i > n) continue;
        keys::CopyRecord c{.offset = i, .seq = uint64_t(n) * 100000 + i, .device = (i % 2) == 0};
        txn.Put(dbi_, User(n), keys::EncodeCopy(c), MDB_APPENDDUP);
      }
    }
    // An offset that does not grow is refused by MDB_APPENDDUP.
    try {
      txn.Put(dbi_, "u7", keys::EncodeCopy(keys::CopyRecord{.offset = 3, .seq = 1}), MDB_APPENDDUP);
      ADD_FAILURE() << "out-of-order append accepted";
    } catch (const LmdbError& e) { EXPECT_EQ(e.rc(), MDB_KEYEXIST); }
    txn.Commit();
  }

  // Rewrites every third record in place: sets received and read.
  void RewriteEveryThird() {
    Txn txn(env_.get(), false);
    for (int n : kSizes) {
      const std::string user = User(n);
      for (int i = 1; i <= n; i += 3) {
        Cursor cur(txn, dbi_);
        ASSERT_TRUE(cur.SeekDup(user, keys::CopyProbe(i))) << user << " " << i;
        auto c = keys::DecodeCopy(cur.value());
        ASSERT_TRUE(c);
        ASSERT_EQ(c->offset, i);
        c->received = c->read = true;
        cur.PutCurrent(keys::EncodeCopy(*c));
        EXPECT_EQ(keys::DecodeCopy(cur.value())->offset, i) << "the cursor stays on the rewritten value";
        EXPECT_TRUE(keys::DecodeCopy(cur.value())->read);
      }
      Cursor cur(txn, dbi_);
      EXPECT_FALSE(cur.SeekDup(user, keys::CopyProbe(n + 1))) << "nothing after the last offset";
    }
    txn.Commit();
  }

  // Every user's values in offset order, with the rewritten flags.
  void ExpectRewrittenValues(const Txn& txn) {
    MDB_stat st{};
    ASSERT_EQ(mdb_stat(txn.get(), dbi_, &st), MDB_SUCCESS);
    EXPECT_EQ(st.ms_entries, 1u + 7u + 3000u) << "rewrites replaced, they did not add";
    for (int n : kSizes) {
      const std::string user = User(n);
      int expect = 1;
      Cursor cur(txn, dbi_);
      for (bool ok = cur.SeekDup(user, keys::CopyProbe(1)); ok; ok = cur.NextDup()) {
        auto c = keys::DecodeCopy(cur.value());
        ASSERT_TRUE(c);
        ASSERT_EQ(c->offset, expect) << user;
        EXPECT_EQ(c->seq, uint64_t(n) * 100000 + expect);
        EXPECT_EQ(c->device, expect % 2 == 0);
        EXPECT_EQ(c->received, (expect - 1) % 3 == 0) << user << " " << expect;
        EXPECT_EQ(c->read, (expect - 1) % 3 == 0);
        ++expect;
      }
      EXPECT_EQ(expect, n + 1) << user;
    }
  }

  // Deletes one value of a user, then all of the single one's.
  void DeleteValues(Txn& txn) {
    auto c5 = keys::EncodeCopy(keys::CopyRecord{.offset = 5, .seq = 700005});
    EXPECT_TRUE(txn.DelDup(dbi_, "u7", c5));
    EXPECT_FALSE(txn.DelDup(dbi_, "u7", c5));
    {
      Cursor cur(txn, dbi_);
      ASSERT_TRUE(cur.SeekDup("u7", keys::CopyProbe(5)));
      EXPECT_EQ(keys::DecodeCopy(cur.value())->offset, 6) << "a seek lands on the next offset";
    }
    auto c1 = keys::EncodeCopy(keys::CopyRecord{.offset = 1, .seq = 100001, .received = true, .read = true});
    EXPECT_TRUE(txn.DelDup(dbi_, "u1", c1));
    EXPECT_FALSE(txn.Get(dbi_, "u1").has_value());
  }

  // MDB_APPENDDUP fills the pages: 3000 records of 13 bytes take 10 leaf
  // pages of 4 KiB at most (a middle split would leave them about half full).
  void ExpectFullLeafPages() {
    Txn txn(env_.get(), true);
    MDB_stat sub{};
    ASSERT_EQ(mdb_stat(txn.get(), dbi_, &sub), MDB_SUCCESS);
    EXPECT_LE(sub.ms_leaf_pages, 12u) << "leaf pages " << sub.ms_leaf_pages;
  }

  const std::vector<int> kSizes = {1, 7, 3000};
  TempDir dir_;
  Env env_;
  MDB_dbi dbi_ = 0;
};

TEST_F(LmdbDupFixed, AppendSeekRewriteInPlaceAndDelete) {
  ASSERT_NO_FATAL_FAILURE(AppendInterleaved());
  ASSERT_NO_FATAL_FAILURE(RewriteEveryThird());
  {
    Txn txn(env_.get(), false);
    ASSERT_NO_FATAL_FAILURE(ExpectRewrittenValues(txn));
    ASSERT_NO_FATAL_FAILURE(DeleteValues(txn));
    txn.Commit();
  }
  ASSERT_NO_FATAL_FAILURE(ExpectFullLeafPages());
}

}  // namespace
}  // namespace courier::storage
