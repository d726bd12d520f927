// Edit and recall through the client library: edit() and recall() resolve
// like send(), the receiver's on_edit / on_recall get the entries in offset
// order, and a later sync shows the original in its final state.
#include <gtest/gtest.h>

#include "courier/client.h"
#include "support/client_fixture.h"

namespace courier::client_test {
namespace {

using EditClientTest = ClientTest;

TEST_F(EditClientTest, EditAndRecallReachTheReceiverAsEvents) {
  Recorder ra, rb;
  Client alice(Opts("alice", "alice-phone"), ra.handlers());
  Client bob(Opts("bob", "bob-phone"), rb.edit_handlers());
  alice.start();
  bob.start();
  ASSERT_TRUE(ra.WaitSynced());
  ASSERT_TRUE(rb.WaitSynced());

  auto sent = alice.send("bob", "helo", {.id = "m1"});
  ASSERT_TRUE(Ready(sent).ok);
  auto edited = alice.edit("m1", {.user = "bob"}, "hello", {.id = "e1"});
  const client::SendResult er = Ready(edited);
  ASSERT_TRUE(er.ok) << er.error_code << ": " << er.error_detail;
  EXPECT_EQ(er.offset, 2);
  ASSERT_TRUE(rb.WaitFor([&] { return rb.edits.size() == 1; }));
  {
    std::lock_guard lock(rb.mu);
    EXPECT_EQ(rb.edits[0].id, "e1");
    EXPECT_EQ(rb.edits[0].replaces, "m1");
    EXPECT_EQ(rb.edits[0].payload, "hello");
    EXPECT_FALSE(rb.edits[0].recall);
    ASSERT_EQ(rb.messages.size(), 1u) << "the edit entry does not reach on_message";
  }

  auto recalled = alice.recall("m1", {.user = "bob"}, {.id = "r1"});
  ASSERT_TRUE(Ready(recalled).ok);
  ASSERT_TRUE(rb.WaitFor([&] { return rb.recalls.size() == 1; }));
  {
    std::lock_guard lock(rb.mu);
    EXPECT_EQ(rb.recalls[0].replaces, "m1");
    EXPECT_TRUE(rb.recalls[0].recall);
  }

  // A permanent error ends the edit like a send: no retries.
  auto again = alice.edit("m1", {.user = "bob"}, "too late", {.id = "e2"});
  const client::SendResult ar = Ready(again);
  EXPECT_FALSE(ar.ok);
  EXPECT_EQ(ar.error_code, "already_recalled");
  EXPECT_EQ(ar.attempts, 1);

  // A new device of bob without edit handlers: everything in on_message,
  // the original already recalled.
  Recorder rt;
  Client tablet(Opts("bob", "bob-tablet"), rt.handlers());
  tablet.start();
  ASSERT_TRUE(rt.WaitSynced());
  std::lock_guard lock(rt.mu);
  ASSERT_EQ(Offsets(rt.messages), Range(1, 3));
  EXPECT_TRUE(rt.messages[0].recalled);
  EXPECT_EQ(rt.messages[0].payload, "");
  EXPECT_EQ(rt.messages[1].replaces, "m1");
  EXPECT_EQ(rt.messages[1].payload, "") << "the earlier edit's content went with the recall";
  EXPECT_TRUE(rt.messages[2].recall);
}

}  // namespace
}  // namespace courier::client_test
