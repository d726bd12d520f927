# gnuplot script written by courier_bench suite; run it in this directory.
set terminal pngcairo size 900,520 font "sans,10"
set style fill solid 0.8 border -1
set grid ytics
set linetype 1 lc rgb "#4477aa" lw 2 pt 7
set linetype 2 lc rgb "#cc6677" lw 2 pt 7
set linetype 3 lc rgb "#228833" lw 2 pt 7
set linetype 4 lc rgb "#ccbb44" lw 2 pt 7
set linetype 5 lc rgb "#aa3377" lw 2 pt 7

set output "throughput.png"
set title "Delivered msg/s at saturation (64 users, 1:1, window 16, 100 B; higher is better)"
set ylabel "delivered messages / s (log scale)"
set logscale y
set boxwidth 0.6
set yrange [10:*]
unset key
plot "saturation.dat" using 0:2:($0+1):xtic(1) with boxes lc variable, \
     "" using 0:2:(sprintf("%.0f", $2)) with labels offset 0,1
unset logscale y
set yrange [*:*]

set output "latency.png"
set terminal pngcairo size 1100,800 font "sans,10"
set multiplot layout 2,2 title "Latency against offered load (log-log; lower is better)"
set logscale xy
set key top left
set xlabel "offered msg/s"
set ylabel "ms"
set title "send -> deliver p50"
plot "latency.dat" index 0 using 1:3 with linespoints lt 1 title "plain", \
     "latency.dat" index 1 using 1:3 with linespoints lt 2 title "persist", \
     "latency.dat" index 2 using 1:3 with linespoints lt 3 title "courier-full", \
     "latency.dat" index 3 using 1:3 with linespoints lt 4 title "courier-nometa", \
     "latency.dat" index 4 using 1:3 with linespoints lt 5 title "courier-os"
set title "send -> deliver p99"
plot "latency.dat" index 0 using 1:5 with linespoints lt 1 title "plain", \
     "latency.dat" index 1 using 1:5 with linespoints lt 2 title "persist", \
     "latency.dat" index 2 using 1:5 with linespoints lt 3 title "courier-full", \
     "latency.dat" index 3 using 1:5 with linespoints lt 4 title "courier-nometa", \
     "latency.dat" index 4 using 1:5 with linespoints lt 5 title "courier-os"
set title "send -> deliver p99.9"
plot "latency.dat" index 0 using 1:6 with linespoints lt 1 title "plain", \
     "latency.dat" index 1 using 1:6 with linespoints lt 2 title "persist", \
     "latency.dat" index 2 using 1:6 with linespoints lt 3 title "courier-full", \
     "latency.dat" index 3 using 1:6 with linespoints lt 4 title "courier-nometa", \
     "latency.dat" index 4 using 1:6 with linespoints lt 5 title "courier-os"
set title "send -> ack p99"
plot "latency.dat" index 0 using 1:9 with linespoints lt 1 title "plain", \
     "latency.dat" index 1 using 1:9 with linespoints lt 2 title "persist", \
     "latency.dat" index 2 using 1:9 with linespoints lt 3 title "courier-full", \
     "latency.dat" index 3 using 1:9 with linespoints lt 4 title "courier-nometa", \
     "latency.dat" index 4 using 1:9 with linespoints lt 5 title "courier-os"
unset multiplot
unset logscale xy
set terminal pngcairo size 900,520 font "sans,10"

set output "heap.png"
set title "Courier broker memory against stored messages (sync os fill)"
set xlabel "stored messages"
set ylabel "MiB"
set key top left
set format x "%.0s%c"
plot "heap.dat" using 1:2 with linespoints lw 2 pt 7 title "plugin heap: RssAnon(Courier) - RssAnon(plain)", \
     "" using 1:5 with linespoints lw 2 pt 11 title "heap in use, whole broker (mallinfo2)", \
     "" using 1:4 with linespoints lw 2 pt 5 title "RssFile (LMDB map pages + libraries)", \
     "" using 1:3 with linespoints lw 2 pt 9 title "VmRSS total"
