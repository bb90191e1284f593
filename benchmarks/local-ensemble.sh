#!/usr/bin/env bash
# A real 3-node ZooKeeper ensemble of separate processes on 127.0.0.1, for `zkr bench --connect`:
#   benchmarks/local-ensemble.sh start    # prints the connect string, 127.0.0.1:22181,127.0.0.1:22182,127.0.0.1:22183
#   benchmarks/local-ensemble.sh stop
# Servers run from the zkr jar (which carries ZooKeeper's server), data and logs in $ZKR_ENSEMBLE_DIR
# (default /tmp/zkr-local-ensemble). Four-letter words srvr, mntr and wchs are enabled for operators.
set -euo pipefail
root="$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)"
dir="${ZKR_ENSEMBLE_DIR:-/tmp/zkr-local-ensemble}"
jar="$root/recipes-cli/target/zkr.jar"
case "${1:-}" in
  start)
    [ -f "$jar" ] || (cd "$root" && mvn -q -B -pl recipes-cli -am package -DskipTests)
    for i in 1 2 3; do
      mkdir -p "$dir/$i/data"
      echo "$i" > "$dir/$i/data/myid"
      cat > "$dir/$i/zoo.cfg" <<CFG
tickTime=500
initLimit=20
syncLimit=10
dataDir=$dir/$i/data
clientPort=2218$i
clientPortAddress=127.0.0.1
admin.enableServer=false
4lw.commands.whitelist=srvr,mntr,wchs,ruok
server.1=127.0.0.1:22888:23888
server.2=127.0.0.1:22889:23889
server.3=127.0.0.1:22890:23890
CFG
      nohup java -Xmx512m -cp "$jar" -Dzookeeper.log.dir="$dir/$i" \
        org.apache.zookeeper.server.quorum.QuorumPeerMain "$dir/$i/zoo.cfg" > "$dir/$i/server.log" 2>&1 &
      echo $! > "$dir/$i/pid"
    done
    for i in 1 2 3; do
      for _ in $(seq 1 60); do
        if (exec 3<>/dev/tcp/127.0.0.1/2218$i && echo srvr >&3 && grep -q Mode <&3) 2>/dev/null; then break; fi
        sleep 0.5
      done
    done
    echo "127.0.0.1:22181,127.0.0.1:22182,127.0.0.1:22183"
    ;;
  stop)
    for i in 1 2 3; do
      [ -f "$dir/$i/pid" ] && kill "$(cat "$dir/$i/pid")" 2>/dev/null || true
      rm -f "$dir/$i/pid"
    done
    ;;
  *)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
