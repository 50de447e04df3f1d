-- bench/workloads/cpu_input.lua: writes the fixed input of bench/guestcpu.sh's
-- compression workloads to stdout, the same bytes on every run and host.
--
--   lua5.4 cpu_input.lua KIB FILE...     (KIB: size of the output in KiB)
--
-- Compressing zeros or random bytes says little, so the input alternates
-- 16 KiB of generated English-like text (words from a fixed vocabulary
-- with a skewed choice, numbers, punctuation, lines) with 16 KiB taken in
-- turn from FILE... (the staged i386 programs and libraries: machine code
-- and data). Lua 5.4's own generator (xoshiro256**) with a fixed seed
-- makes the text, so it does not depend on the host's C library.
local kib = assert(tonumber(arg[1]), "usage: cpu_input.lua KIB FILE...")
local files = {}
for i = 2, #arg do
  local f = assert(io.open(arg[i], "rb"))
  files[#files + 1] = f:read("a")
  f:close()
end
assert(#files > 0, "no binary files given")
math.randomseed(20230610, 5)
local words = {}
for w in ([[the of and to in is that for it as was with be by on not he this are or his
  from at which but have an they you were her she there been one all would their
  has will more if no when what so out up into said time about can only other new
  some could these two may then first any like now my such make over our even most
  kernel page table interrupt register segment descriptor privilege translation
  block cache memory address virtual physical instruction decoder emulator guest
  host compile branch pointer stack frame buffer vector matrix integer float
  xylophone quixotic zephyr jubilant ambiguous labyrinth serendipity]]):gmatch("%a+") do
  words[#words + 1] = w
end
local function text_chunk(n)
  local out, len, col = {}, 0, 0
  while len < n do
    -- squared draw: early (short, common) words come up far more often
    local r = math.random()
    local w = words[1 + math.floor(r * r * #words)]
    local p = math.random(20)
    if p == 1 then w = tostring(math.random(0, 99999))
    elseif p == 2 then w = w .. ","
    elseif p == 3 then w = w .. "." end
    col = col + #w + 1
    if col > 72 then w = w .. "\n"; col = 0 else w = w .. " " end
    out[#out + 1] = w
    len = len + #w
  end
  return table.concat(out):sub(1, n)
end
local chunk, total, fi, pos = 16384, kib * 1024, 1, 1
local written = 0
while written < total do
  local n = math.min(chunk, total - written)
  io.write(text_chunk(n))
  written = written + n
  n = math.min(chunk, total - written)
  if n > 0 then
    local data = files[fi]
    if pos + n - 1 > #data then fi = fi % #files + 1; pos = 1; data = files[fi] end
    local piece = data:sub(pos, pos + n - 1)
    if #piece < n then piece = piece .. string.rep("\0", n - #piece) end
    io.write(piece)
    pos = pos + n
    written = written + n
  end
end
