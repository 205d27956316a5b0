# Chart of bench/results_suites.png: the costs of each suite (handshake CPU per side, bytes
# and datagrams on the wire per handshake) and Mode A v2 responses/s per signature
# algorithm, from the data files bench/assemble.sh writes:
#   suites: "suite" initiator-us responder-us wire-bytes datagrams (one line per suite)
#   algs:   "algorithm" responses/s
# Call with  gnuplot -e "suites='...'; algs='...'; outfile='...'" bench/plot_suites.gp
set terminal pngcairo size 1100,800 font ",10" noenhanced
set output outfile
set style fill solid 0.8 border -1
set grid ytics
set xtics nomirror rotate by -20
set multiplot layout 2,2 title "Per-suite costs (one run of make bench)"

set title "Handshake CPU per side (us)"
set style data histograms
set style histogram clustered gap 1
set boxwidth 0.9
set key top left
set yrange [0:*]
plot suites using 2:xtic(1) title "initiator" lc rgb "#3a6ea5", \
     '' using 3 title "responder" lc rgb "#d08c2f"

set style histogram rowstacked
set boxwidth 0.6
unset key
set title "Bytes on the wire per handshake (both directions)"
plot suites using 4:xtic(1) lc rgb "#3a6ea5", \
     '' using 0:4:(sprintf("%.0f", $4)) with labels offset 0,0.8 notitle

set title "Datagrams per handshake"
plot suites using 5:xtic(1) lc rgb "#5a9e4b", \
     '' using 0:5:(sprintf("%.0f", $5)) with labels offset 0,0.8 notitle

set title "Mode A v2 responses/s by server key"
plot algs using 2:xtic(1) lc rgb "#8a4fa0", \
     '' using 0:2:(sprintf("%.0f", $2)) with labels offset 0,0.8 notitle

unset multiplot
