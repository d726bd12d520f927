// hello_courier HOST PORT: sends a note to itself and prints what came back.
#include <courier/client.h>

#include <cstdio>
#include <string>

int main(int argc, char** argv) {
  if (argc != 3) return 2;
  courier::client::Options o;
  o.host = argv[1];
  o.port = std::stoi(argv[2]);
  o.user = o.device = "hello";
  std::promise<std::string> got;
  courier::client::Client c(o, {.on_message = [&](const courier::client::Message& m) { got.set_value(m.payload); }});
  c.start();
  const auto r = c.send("hello", "hello from an installed Courier").get();
  std::printf("version=%s ok=%d offset=%d\n", courier::client::Version().c_str(), r.ok, r.offset);
  std::printf("received \"%s\"\n", got.get_future().get().c_str());
  return r.ok ? 0 : 1;
}
