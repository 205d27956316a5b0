# Chart of bench/results.png: requests/s per server and mode (log scale), from the data file
# bench/assemble.sh writes ("label" requests/s per line). Call with
#   gnuplot -e "datafile='...'; outfile='...'" bench/plot.gp
set terminal pngcairo size 900,500 font ",10"
set output outfile
set title "CoAP GET throughput on loopback (requests/s, log scale)"
set style data histograms
set style fill solid 0.8 border -1
set boxwidth 0.7
set logscale y
set yrange [10:*]
set grid ytics
set ylabel "requests/s"
set xtics nomirror
unset key
plot datafile using 2:xtic(1) lc rgb "#3a6ea5", \
     '' using 0:2:(sprintf("%.0f", $2)) with labels offset 0,0.8 notitle
