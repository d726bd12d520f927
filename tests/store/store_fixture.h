// The fixtures of the store suite: each test gets a fresh store of the
// engine it is instantiated for (store_engine.h), talks to it only through
// storage::Store, and may reopen it (Close(), Open()) to check what is kept.
//
//   EngineTest         the site and the store, Open() and Close()
//   StoreTest          one request at a time (Run, Appended, Receipted,
//                      Pulled), 1:1 messages keyed "c:<a>|<b>"
//   StoreFeaturesTest  groups, expiry, retention and admin: FeatureCalls
//                      (store_calls.h) over EngineTest
//
// Ownership: each test owns its site and its store (closed before the site
// goes). Threads: the test's main thread. Failures: gtest assertions.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "requests.h"
#include "store.h"
#include "store_calls.h"
#include "store_engine.h"

namespace courier::storage::testing {

using courier::v1::Message;
using V = std::vector<int32_t>;

class EngineTest : public ::testing::TestWithParam<StoreEngine> {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    site_ = GetParam().make(std::string(info->test_suite_name()) + "_" + info->name());
    Open();
  }
  void TearDown() override { Close(); }
  void Open() {
    store_.reset();
    Status s = site_->Open(&store_);
    ASSERT_TRUE(s.ok()) << GetParam().name << ": " << s.ToString();
    ASSERT_NE(store_, nullptr);
  }
  void Close() { store_.reset(); }

  std::unique_ptr<StoreSite> site_;
  std::unique_ptr<Store> store_;  // declared after site_: closed before the site goes
};

class StoreTest : public RequestCalls<EngineTest> {};

class StoreFeaturesTest : public FeatureCalls<EngineTest> {};

}  // namespace courier::storage::testing
