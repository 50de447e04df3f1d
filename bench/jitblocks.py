#!/usr/bin/env python3
"""bench/jitblocks.py: perf samples in fox86's translated code, by guest block.

    bench/jitblocks.py PERF_DATA PERF_MAP [TOP]

PERF_MAP is the /tmp/perf-PID.map that `fox86 -d perfmap` wrote (host
address, size, guest_EIP_MODE per block). The code cache reuses host
addresses after a flush, so for a sample the newest block covering its
address wins. Prints the shares of host (non-translated) code, guest user
blocks and guest kernel blocks (EIP >= 0xC0000000), then the top blocks.
Used by bench/profile.sh --jit.
"""
import collections
import re
import subprocess
import sys

CHUNK = 6   # log2 of the bytes per lookup bucket


def main():
    data, map_path = sys.argv[1], sys.argv[2]
    top = int(sys.argv[3]) if len(sys.argv) > 3 else 25
    buckets = collections.defaultdict(list)
    with open(map_path) as f:
        for line in f:
            addr, size, name = line.split()
            entry = (int(addr, 16), int(size, 16), name)
            for c in range(entry[0] >> CHUNK, (entry[0] + entry[1] - 1 >> CHUNK) + 1):
                buckets[c].append(entry)
    script = subprocess.run(['perf', 'script', '-i', data, '--show-mmap-events', '-F', 'ip,dso'],
                            capture_output=True, text=True, check=False).stdout
    base = None
    shares = collections.Counter()
    blocks = collections.Counter()
    total = 0
    for line in script.splitlines():
        if 'MMAP' in line:
            m = re.search(r'\[(0x[0-9a-f]+)\(', line)
            if m and 'memfd:fox86-code' in line and 'r-x' in line:
                base = int(m.group(1), 16)
            continue
        fields = line.split()
        if not fields:
            continue
        total += 1
        if 'memfd:fox86-code' not in line or base is None:
            shares['host code'] += 1
            continue
        ip = base + int(fields[0], 16)
        hit = next((e for e in reversed(buckets.get(ip >> CHUNK, ()))
                    if e[0] <= ip < e[0] + e[1]), None)
        if not hit:
            shares['unresolved'] += 1
            continue
        eip = int(hit[2].split('_')[1], 16)
        shares['guest kernel blocks' if eip >= 0xC0000000 else 'guest user blocks'] += 1
        blocks[hit[2]] += 1
    if not total:
        print('  no samples')
        return
    print('  ' + ', '.join('%s %.1f%%' % (k, 100.0 * v / total) for k, v in shares.most_common()))
    for name, n in blocks.most_common(top):
        print('%8.2f%%  %s' % (100.0 * n / total, name))


if __name__ == '__main__':
    main()
