/* tests/baremetal/nomultiboot.c: a valid ELF32 i386 executable with no
 * multiboot header, for test_cli.sh (fox86 must refuse it in one line). */
void _start(void)
{
    for (;;)
        __asm__ volatile("hlt");
}
