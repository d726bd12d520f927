// The WebSocket transport's pure pieces: the MQTT v5 codec (mqtt_codec.h)
// and the WebSocket handshake and framing (ws_frame.h). No sockets.
#include <gtest/gtest.h>

#include "mqtt_codec.h"
#include "ws_frame.h"

namespace courier::client::detail {
namespace {

using mqtt::Decode;
using mqtt::DecodePacket;
using mqtt::Packet;

std::string Bytes(std::initializer_list<int> bs) {
  std::string s;
  for (int b : bs) s += static_cast<char>(b);
  return s;
}

TEST(MqttCodec, VarintRoundTripsAndRejectsFiveBytes) {
  for (uint32_t v : {0u, 1u, 127u, 128u, 16383u, 16384u, 2097151u, 2097152u, 268435455u}) {
    std::string s;
    mqtt::PutVarint(s, v);
    size_t pos = 0;
    uint32_t got = 0;
    ASSERT_EQ(mqtt::GetVarint(s, &pos, &got), 1) << v;
    EXPECT_EQ(got, v);
    EXPECT_EQ(pos, s.size());
    if (s.size() > 1) {
      size_t p2 = 0;
      EXPECT_EQ(mqtt::GetVarint(s.substr(0, s.size() - 1), &p2, &got), 0) << "partial " << v;
    }
  }
  size_t pos = 0;
  uint32_t got = 0;
  EXPECT_EQ(mqtt::GetVarint(Bytes({0xff, 0xff, 0xff, 0xff, 0x01}), &pos, &got), -1);
}

TEST(MqttCodec, ConnectHasVersionFlagsAndFields) {
  const std::string c =
      mqtt::EncodeConnect({.client_id = "dev", .username = "alice", .password = "pw", .keepalive_s = 30});
  // 0x10, length, "MQTT", version 5, flags (user, password, clean start),
  // keepalive, no properties, then the three strings.
  const std::string body = Bytes({0, 4}) + "MQTT" + Bytes({5, 0xc2, 0, 30, 0}) + Bytes({0, 3}) + "dev" + Bytes({0, 5}) +
                           "alice" + Bytes({0, 2}) + "pw";
  EXPECT_EQ(c, Bytes({0x10, static_cast<int>(body.size())}) + body);
  const std::string anon = mqtt::EncodeConnect({.client_id = "d"});
  EXPECT_EQ(static_cast<uint8_t>(anon[9]), 0x02) << "clean start only";
}

TEST(MqttCodec, PublishRoundTripsAtQos0And1) {
  const std::string payload(300, 'x');  // two-byte remaining length
  for (int qos : {0, 1}) {
    const std::string p = mqtt::EncodePublish("msg/alice/send", payload, qos, 77);
    Packet got;
    size_t used = 0;
    std::string err;
    ASSERT_EQ(DecodePacket(p, &got, &used, &err), Decode::kOk) << err;
    EXPECT_EQ(used, p.size());
    EXPECT_EQ(got.type, mqtt::kPublish);
    EXPECT_EQ(got.qos, qos);
    EXPECT_EQ(got.topic, "msg/alice/send");
    EXPECT_EQ(got.payload, payload);
    EXPECT_EQ(got.mid, qos ? 77 : 0);
    // Every prefix is incomplete, never an error.
    for (size_t n = 0; n < p.size(); ++n) {
      EXPECT_EQ(DecodePacket(p.substr(0, n), &got, &used, &err), Decode::kNeedMore) << n;
    }
  }
}

TEST(MqttCodec, OutgoingControlPackets) {
  EXPECT_EQ(mqtt::EncodePuback(0x1234), Bytes({0x40, 2, 0x12, 0x34}));
  EXPECT_EQ(mqtt::EncodePingreq(), Bytes({0xc0, 0}));
  EXPECT_EQ(mqtt::EncodeDisconnect(0), Bytes({0xe0, 1, 0}));
  EXPECT_EQ(mqtt::EncodeSubscribe(5, {"a/b", "c"}, 1),
            Bytes({0x82, 13, 0, 5, 0, 0, 3}) + "a/b" + Bytes({1, 0, 1}) + "c" + Bytes({1}));
}

TEST(MqttCodec, DecodesServerPacketsSkippingProperties) {
  Packet p;
  size_t used = 0;
  std::string err;
  // CONNACK, session present, reason 0x86, with a property block (5 bytes).
  const std::string connack = Bytes({0x20, 8, 1, 0x86, 5, 0x21, 0, 10, 0x24, 1});
  ASSERT_EQ(DecodePacket(connack, &p, &used, &err), Decode::kOk) << err;
  EXPECT_EQ(p.type, mqtt::kConnack);
  EXPECT_TRUE(p.session_present);
  EXPECT_EQ(p.reason, 0x86);
  // PUBACK short form (reason 0 implied) and with reason 0x10 and properties.
  ASSERT_EQ(DecodePacket(Bytes({0x40, 2, 0, 9}), &p, &used, &err), Decode::kOk);
  EXPECT_EQ(p.mid, 9);
  EXPECT_EQ(p.reason, 0);
  ASSERT_EQ(DecodePacket(Bytes({0x40, 4, 0, 9, 0x10, 0}), &p, &used, &err), Decode::kOk);
  EXPECT_EQ(p.reason, 0x10);
  // SUBACK of two filters, one refused.
  ASSERT_EQ(DecodePacket(Bytes({0x90, 5, 0, 3, 0, 1, 0x87}), &p, &used, &err), Decode::kOk);
  EXPECT_EQ(p.mid, 3);
  EXPECT_EQ(p.granted, (std::vector<uint8_t>{1, 0x87}));
  ASSERT_EQ(DecodePacket(Bytes({0xd0, 0}), &p, &used, &err), Decode::kOk);
  EXPECT_EQ(p.type, mqtt::kPingresp);
  // DISCONNECT 0x8E (session taken over), and the empty form (0).
  ASSERT_EQ(DecodePacket(Bytes({0xe0, 2, 0x8e, 0}), &p, &used, &err), Decode::kOk);
  EXPECT_EQ(p.type, mqtt::kDisconnect);
  EXPECT_EQ(p.reason, 0x8e);
  ASSERT_EQ(DecodePacket(Bytes({0xe0, 0}), &p, &used, &err), Decode::kOk);
  EXPECT_EQ(p.reason, 0);
  // Two packets in one buffer: one at a time.
  const std::string two = Bytes({0xd0, 0, 0x40, 2, 0, 1});
  ASSERT_EQ(DecodePacket(two, &p, &used, &err), Decode::kOk);
  EXPECT_EQ(used, 2u);
}

TEST(MqttCodec, MalformedPacketsAreErrors) {
  Packet p;
  size_t used = 0;
  std::string err;
  EXPECT_EQ(DecodePacket(Bytes({0x30, 0xff, 0xff, 0xff, 0xff, 0x01}), &p, &used, &err), Decode::kError);
  EXPECT_NE(err.find("remaining length"), std::string::npos) << err;
  EXPECT_EQ(DecodePacket(Bytes({0x36, 2, 0, 0}), &p, &used, &err), Decode::kError) << "QoS 3";
  EXPECT_EQ(DecodePacket(Bytes({0x30, 2, 0, 5}), &p, &used, &err), Decode::kError) << "topic past the end";
  EXPECT_EQ(DecodePacket(Bytes({0x20, 1, 0}), &p, &used, &err), Decode::kError) << "short CONNACK";
  EXPECT_EQ(DecodePacket(Bytes({0x90, 3, 0, 1, 0}), &p, &used, &err), Decode::kError) << "SUBACK without codes";
  EXPECT_EQ(DecodePacket(Bytes({0x10, 0}), &p, &used, &err), Decode::kError) << "CONNECT from a server";
  EXPECT_EQ(DecodePacket(Bytes({0x30, 0xff, 0xff, 0xff, 0x7f}), &p, &used, &err), Decode::kError) << "too large";
}

TEST(WebSocketHandshake, AcceptMatchesTheRfcExample) {
  // RFC 6455 section 1.3.
  EXPECT_EQ(ws::AcceptFor("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  EXPECT_EQ(ws::Base64("ab"), "YWI=");
  EXPECT_EQ(ws::NewKey().size(), 24u);
  EXPECT_NE(ws::NewKey(), ws::NewKey());
}

TEST(WebSocketHandshake, RequestAndResponse) {
  const std::string req = ws::HandshakeRequest("127.0.0.1", 9001, "/mqtt", "KEY");
  EXPECT_TRUE(req.starts_with("GET /mqtt HTTP/1.1\r\nHost: 127.0.0.1:9001\r\n")) << req;
  EXPECT_NE(req.find("Sec-WebSocket-Protocol: mqtt\r\n"), std::string::npos);
  EXPECT_NE(req.find("Sec-WebSocket-Key: KEY\r\n"), std::string::npos);
  EXPECT_TRUE(req.ends_with("\r\n\r\n"));

  const std::string key = "dGhlIHNhbXBsZSBub25jZQ==";
  const std::string ok =
      "HTTP/1.1 101 Switching Protocols\r\nupgrade: WebSocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n";
  size_t used = 0;
  std::string err;
  EXPECT_EQ(ws::ParseHandshakeResponse(ok.substr(0, 40), key, &used, &err), ws::Result::kNeedMore);
  ASSERT_EQ(ws::ParseHandshakeResponse(ok + "\x82", key, &used, &err), ws::Result::kOk) << err;
  EXPECT_EQ(used, ok.size()) << "frame bytes after the header are left";
  std::string bad = ok;
  bad.replace(bad.find("s3pP"), 4, "AAAA");
  EXPECT_EQ(ws::ParseHandshakeResponse(bad, key, &used, &err), ws::Result::kError);
  EXPECT_NE(err.find("Accept"), std::string::npos) << err;
  EXPECT_EQ(ws::ParseHandshakeResponse("HTTP/1.1 404 Not Found\r\n\r\n", key, &used, &err), ws::Result::kError);
  EXPECT_NE(err.find("404"), std::string::npos) << err;
}

ws::Event NextOk(ws::FrameDecoder& d) {
  ws::Event e;
  std::string err;
  EXPECT_EQ(d.Next(&e, &err), ws::Result::kOk) << err;
  return e;
}

TEST(WebSocketFrames, MaskedClientFramesRoundTripAtEveryLengthForm) {
  for (size_t n : {0u, 125u, 126u, 65535u, 65536u}) {
    const std::string payload(n, 'p');
    const std::string f = ws::ClientFrame(ws::kBinary, payload);
    EXPECT_EQ(static_cast<uint8_t>(f[1]) & 0x80, 0x80) << "client frames are masked";
    if (n > 0) EXPECT_EQ(f.find(payload), std::string::npos) << "the payload is not sent in the clear";
    // In pieces: partial input is never an error.
    ws::FrameDecoder server(false);
    ws::Event e;
    std::string err;
    const size_t step = 1 + f.size() / 50;
    for (size_t i = 0; i + 1 < f.size(); i += step) {
      server.Feed(f.substr(i, std::min(step, f.size() - 1 - i)));
      ASSERT_EQ(server.Next(&e, &err), ws::Result::kNeedMore) << n << " at " << i;
    }
    server.Feed(f.substr(f.size() - 1));
    const ws::Event got = NextOk(server);
    EXPECT_EQ(got.kind, ws::Event::kMessage);
    EXPECT_EQ(got.data, payload);
  }
}

TEST(WebSocketFrames, KnownMaskedFrame) {
  // RFC 6455 section 5.7: a masked "Hello".
  const std::string f = ws::EncodeFrame(ws::kText, "Hello", true, {0x37, 0xfa, 0x21, 0x3d});
  EXPECT_EQ(f, Bytes({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}));
}

TEST(WebSocketFrames, FragmentedMessageWithPingInBetween) {
  ws::FrameDecoder d;
  d.Feed(ws::EncodeFrame(ws::kBinary, "ab", false, {}, false));
  d.Feed(ws::EncodeFrame(ws::kPing, "hi", false, {}));
  d.Feed(ws::EncodeFrame(ws::kContinuation, "cd", false, {}, false));
  d.Feed(ws::EncodeFrame(ws::kContinuation, "ef", false, {}));
  const ws::Event ping = NextOk(d);
  EXPECT_EQ(ping.kind, ws::Event::kPing);
  EXPECT_EQ(ping.data, "hi");
  const ws::Event m = NextOk(d);
  EXPECT_EQ(m.kind, ws::Event::kMessage);
  EXPECT_EQ(m.data, "abcdef");
  ws::Event e;
  std::string err;
  EXPECT_EQ(d.Next(&e, &err), ws::Result::kNeedMore);
}

TEST(WebSocketFrames, ServerCloseFrame) {
  ws::FrameDecoder d;
  d.Feed(ws::EncodeFrame(ws::kClose, Bytes({0x03, 0xe9}) + "going away", false, {}));
  const ws::Event c = NextOk(d);
  EXPECT_EQ(c.kind, ws::Event::kClose);
  EXPECT_EQ(c.close_code, 1001);
  EXPECT_EQ(c.data, "going away");
  ws::FrameDecoder empty;
  empty.Feed(Bytes({0x88, 0}));
  EXPECT_EQ(NextOk(empty).close_code, 0);
}

TEST(WebSocketFrames, MalformedFramesAreErrors) {
  auto error_of = [](const std::string& bytes) {
    ws::FrameDecoder d;
    d.Feed(bytes);
    ws::Event e;
    std::string err;
    EXPECT_EQ(d.Next(&e, &err), ws::Result::kError) << "no error for this input";
    return err;
  };
  // A 64-bit length with the top bit set.
  EXPECT_NE(error_of(Bytes({0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 1})).find("length"), std::string::npos);
  // A length beyond the message limit.
  EXPECT_NE(error_of(Bytes({0x82, 127, 0, 0, 0, 1, 0, 0, 0, 0})).find("too large"), std::string::npos);
  EXPECT_NE(error_of(Bytes({0x82, 0x81, 1, 2, 3, 4, 5})).find("masked"), std::string::npos);
  EXPECT_NE(error_of(Bytes({0xc2, 0})).find("reserved"), std::string::npos);
  EXPECT_NE(error_of(Bytes({0x80, 0})).find("continuation"), std::string::npos);
  EXPECT_NE(error_of(Bytes({0x81, 1, 'x'})).find("text"), std::string::npos);
  EXPECT_NE(error_of(Bytes({0x83, 0})).find("opcode"), std::string::npos);
  EXPECT_NE(error_of(Bytes({0x09, 0})).find("control"), std::string::npos) << "fragmented ping";
  EXPECT_NE(error_of(Bytes({0x89, 126, 0, 126})).find("control"), std::string::npos) << "long ping";
  EXPECT_NE(error_of(Bytes({0x02, 1, 'a', 0x82, 1, 'b'})).find("inside"), std::string::npos);
  EXPECT_FALSE(error_of(Bytes({0x88, 1, 3})).empty()) << "one-byte close body";
}

}  // namespace
}  // namespace courier::client::detail
