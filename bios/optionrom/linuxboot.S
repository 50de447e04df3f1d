/* bios/optionrom/linuxboot.S: fox86's Linux-boot option ROM.
 *
 * An ISA option ROM (no PCI data structure) that SeaBIOS loads from the
 * fw_cfg file "genroms/linuxboot.bin". Its init entry does nothing; its PnP
 * expansion header carries a Boot Entry Vector, so SeaBIOS lists it as a
 * boot device ("Linux loader") and the board's fw_cfg "bootorder"
 * ("/rom@genroms/linuxboot.bin") puts it first.
 *
 * When SeaBIOS boots it, the BEV code:
 *   1. reads FW_CFG_{SETUP,KERNEL,INITRD,CMDLINE}_{ADDR,SIZE} through the
 *      traditional ports (select at 0x510, four bytes little-endian at 0x511);
 *   2. copies FW_CFG_{...}_DATA to those addresses with fw_cfg DMA (the
 *      kernel lies above 1 MiB, out of reach of real-mode moves): a
 *      FWCfgDmaAccess descriptor {be32 control, be32 length, be64 address}
 *      is built on the stack and its physical address written big-endian to
 *      0x514 (high half) and 0x518 (low half, starts the transfer); the
 *      control word reads 0 when done (bit 0 on error);
 *   3. enters the kernel's real-mode setup as the boot protocol wants:
 *      interrupts off, DS = ES = FS = GS = SS = setup segment, SP just
 *      below the command line (the top of the setup heap), far jump to
 *      setup segment + 0x20 : 0.
 *
 * The build (bios/CMakeLists.txt) assembles this at origin 0; the host tool
 * romgen pads it to 512-byte blocks, fills the size byte, the PnP header
 * checksum and the last byte so that the whole ROM sums to 0.
 */
        .code16
        .text
        .globl  _start

#define FW_CFG_PORT_SEL     0x510
#define FW_CFG_PORT_DATA    0x511
#define FW_CFG_PORT_DMA_HI  0x514
#define FW_CFG_PORT_DMA_LO  0x518

#define FW_CFG_KERNEL_ADDR  0x07
#define FW_CFG_KERNEL_SIZE  0x08
#define FW_CFG_INITRD_ADDR  0x0A
#define FW_CFG_INITRD_SIZE  0x0B
#define FW_CFG_KERNEL_DATA  0x11
#define FW_CFG_INITRD_DATA  0x12
#define FW_CFG_CMDLINE_ADDR 0x13
#define FW_CFG_CMDLINE_SIZE 0x14
#define FW_CFG_CMDLINE_DATA 0x15
#define FW_CFG_SETUP_ADDR   0x16
#define FW_CFG_SETUP_SIZE   0x17
#define FW_CFG_SETUP_DATA   0x18

#define DMA_CTL_ERROR       0x01
#define DMA_CTL_READ        0x02
#define DMA_CTL_SELECT      0x08

_start:
        .byte   0x55, 0xAA
        .byte   0                       /* size in 512-byte blocks: set by romgen */
init_entry:                             /* offset 3: called far by the BIOS at POST */
        lret

        .org    0x18
        .word   0                       /* no PCI data structure */
        .word   pnp_header              /* offset of the PnP expansion header */

        .balign 16, 0
pnp_header:
        .ascii  "$PnP"
        .byte   0x01                    /* structure revision */
        .byte   0x02                    /* length in 16-byte units */
        .word   0                       /* next header: none */
        .byte   0                       /* reserved */
        .byte   0                       /* checksum of these 32 bytes: set by romgen */
        .long   0                       /* device identifier */
        .word   manufacturer
        .word   product_name
        .byte   0, 0, 0                 /* device type: unspecified (SeaBIOS ignores it) */
        .byte   0x00                    /* device indicators */
        .word   0                       /* boot connection vector: none */
        .word   0                       /* disconnect vector: none */
        .word   boot_entry              /* boot entry vector */
        .word   0                       /* reserved */
        .word   0                       /* static resource information vector */

manufacturer:
        .asciz  "fox86"
product_name:
        .asciz  "Linux loader"

/* eax = the 32-bit fw_cfg item ax (little-endian). Clobbers dx. */
read_item32:
        mov     $FW_CFG_PORT_SEL, %dx
        out     %ax, %dx
        inc     %dx                     /* the data port */
        mov     $4, %cx
1:      in      %dx, %al                /* byte i into al, then rotate it to the top: */
        ror     $8, %eax                /* after four rounds byte 0 is the lowest */
        loop    1b
        ret

/* Copy item bx (its whole contents, length edi) to physical address esi by
 * fw_cfg DMA. Clobbers eax, ecx, edx. */
dma_read_item:
        push    %bp
        mov     %esi, %eax              /* the descriptor, pushed back to front: */
        bswap   %eax
        pushl   %eax                    /* +12 address, low half, big-endian */
        pushl   $0                      /* +8  address, high half */
        mov     %edi, %eax
        bswap   %eax
        pushl   %eax                    /* +4  length */
        movzwl  %bx, %eax
        shl     $16, %eax
        or      $(DMA_CTL_SELECT | DMA_CTL_READ), %eax
        bswap   %eax
        pushl   %eax                    /* +0  control */
        mov     %sp, %bp
        xor     %ecx, %ecx              /* physical address of the descriptor */
        mov     %ss, %cx
        shl     $4, %ecx
        movzwl  %bp, %eax
        add     %eax, %ecx
        bswap   %ecx
        xor     %eax, %eax
        mov     $FW_CFG_PORT_DMA_HI, %dx
        outl    %eax, %dx
        mov     %ecx, %eax
        mov     $FW_CFG_PORT_DMA_LO, %dx
        outl    %eax, %dx               /* starts the transfer */
2:      movl    (%bp), %eax             /* done when the control word (big-endian) */
        and     $~(DMA_CTL_ERROR << 24), %eax   /* has no bit left but ERROR */
        jnz     2b
        add     $16, %sp
        pop     %bp
        ret

/* Load one fw_cfg blob: ax = ADDR key, bx = DATA key, the SIZE key is
 * ADDR + 1 for every blob. Returns its address in esi. */
load_blob:
        push    %ax
        call    read_item32
        mov     %eax, %esi
        pop     %ax
        inc     %ax
        call    read_item32
        mov     %eax, %edi
        test    %edi, %edi
        jz      3f                      /* nothing to copy (no initrd) */
        call    dma_read_item
3:      ret

boot_entry:
        cld
        mov     $FW_CFG_KERNEL_ADDR, %ax
        mov     $FW_CFG_KERNEL_DATA, %bx
        call    load_blob
        mov     $FW_CFG_INITRD_ADDR, %ax
        mov     $FW_CFG_INITRD_DATA, %bx
        call    load_blob
        mov     $FW_CFG_CMDLINE_ADDR, %ax
        mov     $FW_CFG_CMDLINE_DATA, %bx
        call    load_blob
        mov     %esi, %ebp              /* ebp = command line address */
        mov     $FW_CFG_SETUP_ADDR, %ax
        mov     $FW_CFG_SETUP_DATA, %bx
        call    load_blob               /* esi = setup address */

        cli
        mov     %ebp, %ebx              /* the stack ends 16 bytes below the */
        sub     %esi, %ebx              /* command line, inside the setup heap */
        sub     $16, %ebx
        mov     %esi, %eax
        shr     $4, %eax                /* the setup segment */
        mov     %ax, %ds
        mov     %ax, %es
        mov     %ax, %fs
        mov     %ax, %gs
        mov     %ax, %ss
        mov     %bx, %sp
        add     $0x20, %ax              /* the setup code starts 512 bytes in */
        push    %ax
        push    $0
        lret
