/* A stand-in for Windows' bcryptprimitives.dll, which Debian 12's wine 8 lacks: Rust's
 * standard library (1.78+) takes its random bytes from `ProcessPrng` there. Only
 * scripts/check-platforms.sh uses it, to run the Windows build under wine; it is never
 * shipped. The bytes come from RtlGenRandom (advapi32's SystemFunction036), which wine has. */
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
