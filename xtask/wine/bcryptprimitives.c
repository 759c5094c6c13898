/*
 * Wine 8 (Debian bookworm) has no bcryptprimitives.dll, which Rust's
 * standard library imports on Windows for ProcessPrng (Windows 10 and later
 * have it). The test prefix gets this stand-in: ProcessPrng filled from
 * RtlGenRandom (advapi32's SystemFunction036), which Wine implements.
 * Only the Wine prefix under target/tools uses it; real Windows has its own.
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length)
{
    while (length > 0) {
        ULONG chunk = length > 0x10000000 ? 0x10000000 : (ULONG)length;
        if (!SystemFunction036(data, chunk))
            return FALSE;
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
