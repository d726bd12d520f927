// results.md: the store sections (fill, restart, bytes per copy, plugin heap).
#include "report_text.h"
#include "suite_impl.h"

namespace courier::bench {

void Suite::ReportStore(std::ostream& o) {
  o << "### Store: fill, restart, bytes per copy, plugin heap\n\n";
  o << Fmt(
      "Filled with sync os, 256 users, window %d: %lld messages (%lld stored copies: each 1:1 message is stored "
      "once in the receiver's log and once in the sender's, both showing one stored body) in %.1f s, %.0f msg/s.\n\n",
      kFillWindow, static_cast<long long>(stored_messages_), static_cast<long long>(stored_copies_), fill_s_,
      fill_rate_);
  o << "**Restart** with the store full, from fork/exec of mosquitto until the port accepts, and until a PULL "
       "(limit 100, from offset 0) is answered:\n\n";
  o << "| restart | port accepts | PULL answered | entries |\n|---|---:|---:|---:|\n";
  for (const auto& r : restarts_) {
    o << "| " << r.what << " | " << Fmt("%.3f s", r.to_port_s) << " | "
      << (r.to_pull_s > 0 ? Fmt("%.3f s", r.to_pull_s) : std::string("-")) << " | " << r.entries
      << (r.error.empty() ? "" : " (" + r.error + ")") << " |\n";
  }
  o << "\n**Bytes on disk per stored copy** (" << payload_ << " B payload): "
    << Fmt("du of the data directory %.1f MiB / %lld copies = **%.0f B per copy**", double(du_bytes_) / 1048576.0,
           static_cast<long long>(stored_copies_), stored_copies_ ? double(du_bytes_) / double(stored_copies_) : 0.0)
    << Fmt(" (LMDB pages in use: %lld × %d KiB).", static_cast<long long>(store_pages_.pages_used),
           store_pages_.page_size / 1024)
    << " Per table (LMDB's own statistics):\n\n";
  ReportTables(o);
  ReportBodies(o);
  ReportHeap(o);
}

// Bytes per table (LMDB's statistics: storage::PageSpace), and the pages no
// table claims.
void Suite::ReportTables(std::ostream& o) {
  o << "| table | entries | branch pages | leaf pages | overflow pages | bytes per entry | bytes per stored copy |\n";
  o << "|---|---:|---:|---:|---:|---:|---:|\n";
  const storage::PageSpace& ps = store_pages_;
  if (ps.pages_used == 0) return;  // the store could not be read
  auto per_copy = [&](int64_t pages) {
    return stored_copies_ ? Fmt("%.1f", double(pages) * ps.page_size / double(stored_copies_)) : std::string("-");
  };
  std::vector<storage::TableSize> tables = {ps.catalog};
  tables.insert(tables.end(), ps.tables.begin(), ps.tables.end());
  for (const auto& t : tables) {
    const double bytes = PageBytes(t);
    o << "| " << t.name << " | " << t.records << " | " << t.branch_pages << " | " << t.leaf_pages << " | "
      << t.overflow_pages << " | " << (t.records ? Fmt("%.0f", bytes / double(t.records)) : std::string("-")) << " | "
      << per_copy(Pages(t)) << " |\n";
  }
  // LMDB counts a dup-sort table's main tree only: the pages of the
  // per-user sub-databases of `copies` (a user's values once they outgrow a
  // page) are a row of their own.
  auto row = [&](const std::string& name, int64_t pages) {
    o << "| " << name << " | | | " << pages << " | | | " << per_copy(pages) << " |\n";
  };
  row(ps.nested_in + ": per-user sub-databases (not in the table's pages)", ps.nested_pages);
  row("free pages (LMDB freelist, with its own tree)", ps.free_pages + ps.freelist_pages);
}

// Where a copy's bytes go, from the scan of the store.
void Suite::ReportBodies(std::ostream& o) {
  if (store_scan_.bodies.records > 0 && store_scan_.copies.records > 0) {
    const auto& sc = store_scan_;
    const double bodies = double(sc.bodies.records), copies = double(sc.copies.records);
    const double value = double(sc.bodies.value_bytes) / bodies, payload = double(sc.payload_bytes) / bodies;
    const double body_pages = PageBytes(sc.bodies.size), copy_pages = PageBytes(sc.copies.size);
    o << "\nWhere a copy's bytes go (schema 2: each message's content is stored once in `bodies`, each copy is a "
         "fixed-size record in `copies`): "
      << Fmt("%lld bodies for %lld copies (%.2f copies per body); a body's value %.0f B = payload %.0f B + %.0f B "
             "of record (the Body protobuf: id, from, to, timestamps, user_offset, sender offset, expiry, copy "
             "count), key %.0f B, LMDB node header and slot 10 B, on %.0f B of pages per body (leaf pages %.0f%% "
             "full, appended in sequence order), so %.0f B per copy; a copy record %.0f B (offset, body sequence, "
             "flags; the user key once per user) packed into the per-user sub-databases, appended per user "
             "(main tree %.1f B per copy, plus the sub-databases' row above).",
             static_cast<long long>(sc.bodies.records), static_cast<long long>(sc.copies.records), copies / bodies,
             value, payload, value - payload, double(sc.bodies.key_bytes) / bodies, body_pages / bodies,
             100 * BodyLeafFill(sc), body_pages / copies, double(sc.copies.value_bytes) / copies, copy_pages / copies)
      << " The dedup table adds one entry per message (sender and id, the sender's offset), the "
         "expiry index one per RECEIVER copy with an expiry (expiry, body sequence, offset, user), and LMDB's free "
         "pages the rest of du: about two commits' worth of pages, a constant that a bigger store spreads thinner.\n";
  }
}

void Suite::ReportHeap(std::ostream& o) {
  o << "\n**Plugin heap**: RssAnon (heap, anonymous memory) of the Courier broker minus RssAnon of a plain broker "
       "that relayed "
    << plain_ref_messages_ << " messages over the same 256 connections (" << Mb(plain_ref_after_.rss_anon_kb)
    << " MiB; " << Mb(plain_ref_idle_.rss_anon_kb) << " MiB idle; Courier idle after start "
    << Mb(courier_idle_.rss_anon_kb)
    << " MiB). Measured with the clients gone, after each fill step. RssFile "
       "counts the LMDB map's pages the broker has touched: page cache, shared and reclaimable, not heap. The 0 row "
       "compares both brokers idle after start. *Heap in use* is what the whole Courier broker process holds "
       "allocated at that moment (`getStats` `heapInUseBytes`, glibc `mallinfo2`): RssAnon also keeps what the "
       "allocator took for the requests in flight during a burst and has not given back.\n\n";
  o << "| stored messages | plugin heap MiB | RssAnon MiB | heap in use MiB | RssFile MiB | VmRSS MiB |\n"
       "|---:|---:|---:|---:|---:|---:|\n";
  for (const auto& h : heap_) {
    o << "| " << h.messages << " | " << Mb(PluginHeapKb(h)) << " | " << Mb(h.courier.rss_anon_kb) << " | "
      << (h.heap_in_use >= 0 ? Fmt("%.1f", h.heap_in_use / 1048576.0) : std::string("-")) << " | "
      << Mb(h.courier.rss_file_kb) << " | " << Mb(h.courier.rss_kb) << " |\n";
  }
  o << "\n![heap](heap.png)\n\n";
}

}  // namespace courier::bench
