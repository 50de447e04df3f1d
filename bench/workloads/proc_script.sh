# bench/workloads/proc_script.sh: the shell workload, for busybox sh in the
# guest (any POSIX sh natively). Run it from the folder that holds the
# proc_* programs:
#
#   sh proc_script.sh [ITERATIONS]     (default 300)
#
# Each iteration runs proc_tiny, then pipes a line through two proc_relay
# stages inside a command substitution and checks it comes back: about five
# forks, three execs and two pipes per iteration. Prints
# "script iterations=N bad=B guest_us=T"; exit status 0 when B is 0.
n=${1:-300}
t0=$(./proc_clock)
i=0
bad=0
while [ "$i" -lt "$n" ]; do
    ./proc_tiny || bad=$((bad + 1))
    r=$(echo "line $i" | ./proc_relay | ./proc_relay)
    [ "$r" = "line $i" ] || bad=$((bad + 1))
    i=$((i + 1))
done
t1=$(./proc_clock)
echo "script iterations=$n bad=$bad guest_us=$((t1 - t0))"
[ "$bad" -eq 0 ]
