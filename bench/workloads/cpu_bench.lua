-- bench/workloads/cpu_bench.lua: a CPU-bound Lua program for
-- bench/guestcpu.sh (Debian's lua5.4, in the guest and natively).
--
--   lua5.4 cpu_bench.lua ROUNDS      prints "lua rounds=ROUNDS sum=N"
--
-- Each round runs four kernels that stress different parts of an
-- interpreter written in C: a sieve of Eratosthenes (table stores and
-- integer loops), string building, matching and substitution (allocation,
-- the pattern matcher), a table sort of generated keys (calls into a
-- comparison closure), and a small floating-point Mandelbrot (x87 doubles
-- on i386). Everything is fixed by ROUNDS, so the sum is the same on every
-- machine: the bench compares it across emulators and the host.
local rounds = assert(math.tointeger(tonumber(arg[1])), "usage: cpu_bench.lua ROUNDS")

local function sieve(n)
  local composite, count = {}, 0
  for i = 2, n do
    if not composite[i] then
      count = count + 1
      for j = i * i, n, i do composite[j] = true end
    end
  end
  return count
end

local function strings(n, seed)
  local parts = {}
  for i = 1, n do parts[i] = string.format("%d:%x;", i * seed % 9973, i) end
  local s = table.concat(parts)
  local replaced, hits = s:gsub("(%d+):(%x+);", "%2=%1,")
  local found = 0
  for w in replaced:gmatch("=(%d*7%d*),") do found = found + #w end
  return #replaced + hits + found
end

local function sorting(n, seed)
  local keys, x = {}, seed
  for i = 1, n do
    x = (x * 1103515245 + 12345) % 2147483648
    keys[i] = x
  end
  table.sort(keys, function(a, b) return a % 65536 < b % 65536 or (a % 65536 == b % 65536 and a < b) end)
  return keys[1] % 1000 + keys[n // 2] % 1000 + keys[n] % 1000
end

local function mandelbrot(size)
  local inside = 0
  for py = 0, size - 1 do
    local ci = py * 2.0 / size - 1.0
    for px = 0, size - 1 do
      local cr = px * 3.0 / size - 2.0
      local zr, zi, k = 0.0, 0.0, 0
      while k < 50 and zr * zr + zi * zi <= 4.0 do
        zr, zi = zr * zr - zi * zi + cr, 2.0 * zr * zi + ci
        k = k + 1
      end
      if k == 50 then inside = inside + 1 end
    end
  end
  return inside
end

local sum = 0
for r = 1, rounds do
  sum = sum + sieve(20000) + strings(2000, r) + sorting(2000, r) + mandelbrot(40)
end
print(string.format("lua rounds=%d sum=%d", rounds, sum))
