#!/bin/busybox sh
# The VM tier's guest: PID 1 of a busybox initramfs. It finds the emulated
# devices, burns with the real helper through SG_IO and USB Bulk-Only, then
# serves the helper for the host's WebSocket client, and powers off when the
# host says so. Every line for the host starts with "WEBBURN ".
# /vm.env sets PORT (the helper's), RELAY (forwarded from the host) and OPTICAL;
# WINE=1 (with EXE, the host's path of webburn-helper.exe) runs the Windows
# helper under Wine instead.

/bin/busybox --install -s /bin
export PATH=/bin HOME=/root
mkdir -p /proc /sys /dev /tmp /root
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
. /vm.env

say() { echo "WEBBURN $*"; }
finish() { sync; say "poweroff"; reboot -f; }
fail() { say "failed $*"; finish; }

for m in $(cat /modules/order); do
    insmod "/modules/$m" || fail "insmod $m"
done
ip link set lo up
ip link set eth0 up && ip addr add 10.0.2.15/24 dev eth0 || fail "network"

# The sg node of the SCSI device whose model (INQUIRY product) is $1.
sg_of_model() {
    for d in /sys/class/scsi_generic/sg*; do
        [ "$(tr -d ' ' < "$d/device/model" 2>/dev/null)" = "$1" ] && echo "/dev/${d##*/}"
    done
}
# The sg node of the first SCSI device of peripheral type $1 (5 = MMC).
sg_of_type() {
    for d in /sys/class/scsi_generic/sg*; do
        [ "$(cat "$d/device/type" 2>/dev/null)" = "$1" ] && { echo "/dev/${d##*/}"; return; }
    done
}
# usb:BUS:ADDRESS of QEMU's usb-storage device (vendor 46f4).
usb_id() {
    for d in /sys/bus/usb/devices/*; do
        [ "$(cat "$d/idVendor" 2>/dev/null)" = "46f4" ] && echo "usb:$(cat "$d/busnum"):$(cat "$d/devnum")"
    done
}

tries=0
until [ -n "$(sg_of_model WB-SG)" ] && [ -n "$(sg_of_model WB-WS)" ] && [ -n "$(usb_id)" ] \
    && ls /sys/bus/usb/drivers/usb-storage/ | grep -q ':' \
    && { [ "$OPTICAL" = 0 ] || [ -n "$(sg_of_type 5)" ]; }; do
    tries=$((tries + 1))
    [ $tries -gt 300 ] && fail "devices did not appear"
    sleep 0.1
done
SG=$(sg_of_model WB-SG)
WS=$(sg_of_model WB-WS)
USB=$(usb_id)
say "devices sg=$SG ws=$WS usb=$USB optical=$(sg_of_type 5)"
/webburn-helper recorders

if [ "$WINE" = 1 ]; then
    # The Windows helper under the host's Wine: the host's tree read-only
    # over 9p, the prefix read-write; drive D: is the optical drive, E: the
    # scsi-hd, reached through SCSI pass-through (Wine turns it into SG_IO).
    mkdir -p /host
    mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144 host /host || fail "mount the host's tree"
    # The program runs from memory (Wine cannot map an image from 9p), and
    # the tmpfs on /tmp may hide where the host keeps it.
    cp "/host$EXE" /root/webburn-helper.exe || fail "copy the Windows helper"
    mount -t tmpfs tmpfs /host/tmp || fail "tmpfs on /tmp"
    mkdir -p /host/tmp/prefix
    mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 prefix /host/tmp/prefix || fail "mount the prefix"
    for d in proc sys dev; do mount --bind "/$d" "/host/$d" || fail "bind /$d"; done
    cp /data/sg.bin /data/optical.bin /root/webburn-helper.exe /host/tmp/ || fail "copy the data"
    PREFIX=/tmp/prefix EXE=/tmp/webburn-helper.exe
    ln -sf "$(sg_of_type 5)" "/host$PREFIX/dosdevices/d::"
    ln -sf "$SG" "/host$PREFIX/dosdevices/e::"
    win() { chroot /host /usr/bin/env -i PATH=/usr/bin:/bin HOME=/tmp WINEPREFIX="$PREFIX" WINEDEBUG=-all wine "$EXE" "$@"; }
    say "wine recorders $(win recorders --recorder spti:D: --recorder spti:E: 2>&1 | tr '\n' ' ')"
    out=$(win burn 'Z:\tmp\sg.bin' --recorder spti:E: --lba 0 --quiet --json 2> /tmp/err) || true
    say "result wine-sg $out"
    say "wine sg said: $(tr '\n' ' ' < /tmp/err)"
    out=$(win burn 'Z:\tmp\optical.bin' --recorder spti:D: --disc --quiet --json 2> /tmp/err) || true
    say "result wine-optical $out"
    say "wine optical said: $(tr '\n' ' ' < /tmp/err)"
    finish
fi

if [ "$BENCH" = 1 ]; then
    # Our SG_IO path against sg_dd on the same disk, and our USB Bulk-Only
    # path against the kernel's usb-storage driver (dd with O_DIRECT): a
    # round of each first that is not counted (the host's sparse backing
    # files get their blocks then), then $ROUNDS rounds, the tools taking
    # turns in the same order.
    sd_of_stick() {
        tries=0
        until SD=$(for b in /sys/block/sd*; do [ "$(tr -d ' ' < "$b/device/model")" = QEMUHARDDISK ] && echo "${b##*/}"; done) && [ -n "$SD" ] && [ -e "/dev/$SD" ]; do
            tries=$((tries + 1))
            [ $tries -gt 100 ] && fail "the usb-storage disk did not come back"
            sleep 0.1
        done
    }
    round() {
        out=$(/webburn-helper burn /data/bench.bin --recorder "sg:$SG" --lba 0 --quiet --json) || true
        say "$1 ours-sg $out"
        # 1 MiB per command, as the helper writes disks.
        out=$(sg_dd if=/data/bench.bin of="$SG" bs=512 bpt=2048 sync=1 time=1 2>&1 | tr '\n' ' ') || true
        say "$1 sg_dd $out"
        out=$(/webburn-helper burn /data/bench.bin --recorder "$USB,detach" --lba 0 --quiet --json) || true
        say "$1 ours-usb $out"
        sd_of_stick
        t0=$(cut -d' ' -f1 /proc/uptime)
        dd if=/data/bench.bin of="/dev/$SD" bs=1M oflag=direct conv=fsync 2>/dev/null || fail "dd to /dev/$SD"
        t1=$(cut -d' ' -f1 /proc/uptime)
        say "$1 dd-usb $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.2f", b - a}') seconds (/proc/uptime)"
    }
    round warm-up
    for d in /sys/bus/usb/devices/*; do
        [ "$(cat "$d/idVendor" 2>/dev/null)" = "46f4" ] && say "usb-link $(cat "$d/speed") Mb/s, usb-storage writes up to $(cat "/sys/block/$SD/queue/max_sectors_kb") KiB per command"
    done
    n=0
    while [ $n -lt "$ROUNDS" ]; do
        round bench
        n=$((n + 1))
    done
    finish
fi

# (0) A disk that holds a mounted file system is refused, its mount point
# named: the scsi-hd through SG_IO, the stick before its driver is let go of.
sg_block() { ls "/sys/class/scsi_generic/${1##*/}/device/block/" 2>/dev/null | head -n 1; }
usb_block() {
    for d in /sys/bus/usb/devices/*; do
        [ "$(cat "$d/idVendor" 2>/dev/null)" = "46f4" ] || continue
        for b in /sys/block/sd*; do
            case "$(readlink -f "$b")" in "$(readlink -f "$d")"/*) echo "${b##*/}" ;; esac
        done
    done
}
mkdir -p /mnt/busy
tries=0
until [ -n "$(usb_block)" ]; do
    tries=$((tries + 1))
    [ $tries -gt 100 ] && fail "the stick's disk did not appear"
    sleep 0.1
done
# The stick is among the removable disks; neither scsi-hd is.
say "removable: $(/webburn-helper recorders 2>/dev/null | sed -n '/^Removable disks/,$p' | tr '\n' ' ')"
for which in sg usb; do
    if [ "$which" = sg ]; then BLK=$(sg_block "$SG"); REC="sg:$SG"; else BLK=$(usb_block); REC="$USB,detach"; fi
    [ -n "$BLK" ] || fail "no block device for $which"
    mkdosfs "/dev/$BLK" > /dev/null 2>&1 || fail "mkdosfs /dev/$BLK"
    mount -t vfat "/dev/$BLK" /mnt/busy || fail "mount /dev/$BLK"
    out=$(/webburn-helper burn "/data/$which.bin" --recorder "$REC" --lba 0 --quiet --json 2>&1) || true
    say "mounted $which $(echo "$out" | tr '\n' ' ')"
    umount /mnt/busy || fail "umount /dev/$BLK"
done

# (a) SG_IO to the scsi-hd, (b) USB Bulk-Only to usb-storage, driver detached.
out=$(/webburn-helper burn /data/sg.bin --recorder "sg:$SG" --lba 0 --quiet --json) || true
say "result sg $out"
out=$(/webburn-helper burn /data/usb.bin --recorder "$USB,detach" --lba 0 --quiet --json) || true
say "result usb $out"
if [ -e "/sys/bus/usb/drivers/usb-storage" ] && ls /sys/bus/usb/drivers/usb-storage/ | grep -q ':'; then
    say "usb-storage driver re-attached"
fi
# What the stick holds, read through the kernel's driver: the host compares
# it with the data (the stick is flashed again through the protocol below).
tries=0
until [ -n "$(usb_block)" ] && [ -e "/dev/$(usb_block)" ]; do
    tries=$((tries + 1))
    [ $tries -gt 100 ] && fail "the stick did not come back after the burn"
    sleep 0.1
done
UB=$(usb_block)
say "usb sha256 $(head -c "$USB_BYTES" "/dev/$UB" | sha256sum | cut -d' ' -f1) after $(tail -c +$((USB_BYTES + 1)) "/dev/$UB" | tr -d '\000' | wc -c) nonzero"
if [ "$OPTICAL" = 1 ]; then
    OPT=$(sg_of_type 5)
    # A folder burned as files (ISO 9660 + Rock Ridge, Joliet, UDF) with the
    # DiscFormat2Data flow: medium check, write, SYNCHRONIZE CACHE, close,
    # read back and compare, eject.
    out=$(/webburn-helper burn --files /data/tree --volume "VM Tree" --recorder "sg:$OPT" --disc --eject --quiet --json) || true
    say "result optical $out"
    # Again: the flow closes the tray (if it opened) and finds the disc closed.
    out=$(/webburn-helper burn --files /data/tree --recorder "sg:$OPT" --disc --quiet --json) || true
    say "optical again $out"
    # What the drive says of the disc now (READ DISC/TRACK INFORMATION).
    say "optical after close: $(/webburn-helper recorders | awk -v id="sg:$OPT" '$1 == id {f = 1} f && /status|next LBA/ {printf "%s ", $0} f && /^$/ {exit}')"
    # The kernel mounts the disc both ways and every file is hashed.
    SR=$(ls "/sys/class/scsi_generic/${OPT##*/}/device/block/" 2>/dev/null | head -n 1)
    mkdir -p /mnt/disc
    for fs in iso9660 udf; do
        if mount -t "$fs" -o ro "/dev/$SR" /mnt/disc; then
            (cd /mnt/disc && find . -type f | sort | while read -r f; do say "disc $fs $(sha256sum "$f")"; done)
            umount /mnt/disc
        else
            say "disc $fs mount failed"
        fi
    done
fi

# (b2) Files added to a disc left open, session by session (the emulated
# DVD+R: tgt's never takes a second session), then the guest kernel mounts
# the last session (sbsector) and every file is hashed.
MS=/tmp/sessions.img
for part in first second third; do
    flags="--append --leave-appendable"
    [ "$part" = first ] && flags="--leave-appendable"
    [ "$part" = third ] && flags="--append"
    out=$(/webburn-helper burn --files "/data/sessions/$part" --volume "VM Sessions" \
        --recorder "emulated:$MS,profile=dvd+r,capacity=64MiB" --disc $flags --quiet --json) || true
    say "session $part $out"
done
LAST=$(tail -n 1 "$MS.sessions" | cut -d' ' -f1)
say "sessions at $(cut -d' ' -f1 "$MS.sessions" | tr '\n' ' ')"
mkdir -p /mnt/sessions
if mount -t iso9660 -o ro,loop,sbsector="$LAST" "$MS" /mnt/sessions; then
    (cd /mnt/sessions && find . -type f | sort | while read -r f; do say "sessions iso9660 $(sha256sum "$f")"; done)
    umount /mnt/sessions
else
    say "sessions mount failed"
fi

# (c) The helper serves; the host's client reaches it through hostfwd and a
# relay (the helper listens on loopback only, as everywhere). First with the
# scsi-hd configured and the stick only discovered (a page of another origin
# asks for it and is allowed), then with the stick configured for Bulk-Only.
serve() {
    printf 'port = %s\nrecorders = [%s]\nallowed-origins = ["http://approval.test"]\nidle-timeout = "60s"\n' \
        "$PORT" "$1" > /root/webburn.toml
    /webburn-helper serve --config /root/webburn.toml >> /tmp/serve.log 2>&1 &
    HELPER=$!
    tries=0
    link=/root/.local/share/webburn/own-page.url
    until [ -s "$link" ] && wget -q -O - --header "Origin: http://127.0.0.1:$PORT" "http://127.0.0.1:$PORT/v1/status" > /dev/null 2>&1; do
        tries=$((tries + 1))
        [ $tries -gt 300 ] && { cat /tmp/serve.log; fail "the helper did not start serving"; }
        sleep 0.1
    done
    # The host's client is the helper's own page: it needs this run's key.
    say "own key $(sed 's/.*key=//' "$link")"
}
printf '#!/bin/sh\nexec nc 127.0.0.1 %s\n' "$PORT" > /relay && chmod +x /relay
nc -ll -p "$RELAY" -e /relay &
serve "\"sg:$WS\""
say "ready"
read -r line
kill "$HELPER"
wait "$HELPER"
serve "\"sg:$WS\", \"$USB,detach\""
say "ready again"
read -r line
kill "$HELPER"
wait "$HELPER"
# The images the host flashed: their partitions as the kernel sees them (the
# scsi-hd's table read again by the helper, the stick's by the kernel when
# its driver came back).
for which in ws usb; do
    if [ "$which" = ws ]; then B=$(sg_block "$WS"); else B=$(usb_block); fi
    tries=0
    until [ -n "$B" ] && [ -e "/sys/block/$B/${B}1" ]; do
        tries=$((tries + 1))
        [ $tries -gt 100 ] && break
        sleep 0.1
        [ "$which" = usb ] && B=$(usb_block)
    done
    say "partitions $which $(ls "/sys/block/$B" 2>/dev/null | grep "^$B" | tr '\n' ' ')"
done
say "served: $(grep -c 'write finished' /tmp/serve.log) writes finished"
# (d) The flashed image written to the stick again over Bulk-Only, powered
# off when done: the stick leaves the bus (its sysfs `remove`).
out=$(/webburn-helper burn /data/flash.bin --recorder "$USB,detach" --disc --power-off --quiet --json 2>&1) || true
say "power-off $out"
tries=0
while [ -n "$(usb_id)" ] && [ $tries -lt 50 ]; do
    tries=$((tries + 1))
    sleep 0.1
done
say "usb after power-off: $(usb_id || true) $(ls /sys/block | tr '\n' ' ')"
finish
