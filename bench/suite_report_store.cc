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
    << Fmt(" (LMDB pages in use: %lld × 4 KiB).", static_cast<long long>(mdb_pages_used_))
    << " Per table (mdb_stat):\n\n";
  ReportTables(o);
  ReportBodies(o);
  ReportHeap(o);
}

// Bytes per table (mdb_stat), and the pages no table claims.
void Suite::ReportTables(std::ostream& o) {
  o << "| table | entries | branch pages | leaf pages | overflow pages | bytes per entry | bytes per stored copy |\n";
  o << "|---|---:|---:|---:|---:|---:|---:|\n";
  int64_t counted = 0;
  for (const auto& t : tables_) {
    const int64_t bytes = (t.branch + t.leaf + t.overflow) * 4096;
    counted += t.branch + t.leaf + t.overflow;
    o << "| " << t.name << " | " << t.entries << " | " << t.branch << " | " << t.leaf << " | " << t.overflow << " | "
      << (t.entries ? Fmt("%.0f", double(bytes) / double(t.entries)) : std::string("-")) << " | "
      << (stored_copies_ ? Fmt("%.1f", double(bytes) / double(stored_copies_)) : std::string("-")) << " |\n";
  }
  if (!tables_.empty() && mdb_pages_used_ > 0) {
    // mdb_stat counts a MDB_DUPSORT table's main tree only: the pages of the
    // per-user sub-databases of `copies` (a user's values once they outgrow
    // a page) are the pages in use that no table and no freelist claims
    // (2 meta pages aside).
    const int64_t sub = mdb_pages_used_ - counted - mdb_free_pages_ - mdb_freelist_tree_ - 2;
    auto row = [&](const std::string& name, int64_t pages) {
      o << "| " << name << " | | | " << pages << " | | | "
        << (stored_copies_ ? Fmt("%.1f", double(pages) * 4096 / double(stored_copies_)) : std::string("-")) << " |\n";
    };
    row("copies: per-user sub-databases (not in mdb_stat's count)", sub);
    row("free pages (LMDB freelist, with its own tree)", mdb_free_pages_ + mdb_freelist_tree_);
  }
}

// Where a copy's bytes go, from the scan of the store.
void Suite::ReportBodies(std::ostream& o) {
  if (store_scan_.bodies.records > 0 && store_scan_.copies.records > 0) {
    const auto& sc = store_scan_;
    const double bodies = double(sc.bodies.records), copies = double(sc.copies.records);
    const double value = double(sc.bodies.value_bytes) / bodies, payload = double(sc.payload_bytes) / bodies;
    const double body_pages = PageBytes(sc.bodies), copy_pages = PageBytes(sc.copies);
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
