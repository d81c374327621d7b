// SPDX-License-Identifier: GPL-2.0
/*
 * hvx-run: COM1, a 16550A UART on the terminal. Transmitted bytes go to
 * standard output at once (the transmitter is always empty); a thread reads
 * standard input into the receive FIFO. With a terminal on standard input
 * it is put in raw mode, so keys (^C included) reach the guest; Ctrl-A x
 * ends hvx-run, Ctrl-A Ctrl-A sends a Ctrl-A. The interrupt (IRQ 4, gated
 * by MCR.OUT2 as on a PC) is the UART's level, driven with KVM_IRQ_LINE on
 * every change. Register rules: the PC16550D data sheet.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "hvx-run.h"

#define UART_RX		0	/* in: receive buffer; out: transmit */
#define UART_IER	1
#define UART_IIR	2	/* in: interrupt identification; out: FIFO control */
#define UART_LCR	3
#define UART_MCR	4
#define UART_LSR	5
#define UART_MSR	6
#define UART_SCR	7

#define IER_RDI		0x01
#define IER_THRI	0x02
#define IIR_NO_INT	0x01
#define IIR_THRI	0x02
#define IIR_RDI		0x04
#define IIR_FIFO	0xc0
#define FCR_ENABLE	0x01
#define FCR_CLEAR_RX	0x02
#define LCR_DLAB	0x80
#define MCR_OUT2	0x08
#define MCR_LOOP	0x10
#define LSR_DR		0x01
#define LSR_THRE	0x20
#define LSR_TEMT	0x40
#define MSR_CONNECTED	0xb0	/* DCD, DSR, CTS */

#define RX_SIZE		256
#define CTRL_A		0x01

static struct {
	uint8_t ier, fcr, lcr, mcr, scr, dll, dlm;
	bool thr_pending;		/* THR-empty interrupt not yet identified */
	bool irq;			/* the level last given to KVM_IRQ_LINE */
	uint8_t rx[RX_SIZE];
	unsigned int rx_head, rx_len;
} uart;

static pthread_cond_t rx_room = PTHREAD_COND_INITIALIZER;
static struct termios saved_tio;
static bool tio_saved;

static uint8_t uart_iir(void)
{
	uint8_t fifo = uart.fcr & FCR_ENABLE ? IIR_FIFO : 0;

	if ((uart.ier & IER_RDI) && uart.rx_len)
		return IIR_RDI | fifo;
	if ((uart.ier & IER_THRI) && uart.thr_pending)
		return IIR_THRI | fifo;
	return IIR_NO_INT | fifo;
}

static void uart_update_irq(void)
{
	bool level = !(uart_iir() & IIR_NO_INT) && (uart.mcr & MCR_OUT2);

	if (level != uart.irq) {
		uart.irq = level;
		irq_line(IRQ_COM1, level);
	}
}

static void rx_push(uint8_t c)
{
	if (uart.rx_len == RX_SIZE)
		return;			/* overrun: the byte is lost, as on hardware */
	uart.rx[(uart.rx_head + uart.rx_len++) % RX_SIZE] = c;
}

static void tx(uint8_t c)
{
	ssize_t n;

	if (uart.mcr & MCR_LOOP) {
		rx_push(c);
		return;
	}
	do
		n = write(STDOUT_FILENO, &c, 1);
	while (n < 0 && errno == EINTR);
}

static uint8_t uart_msr(void)
{
	uint8_t m = uart.mcr;

	if (!(m & MCR_LOOP))
		return MSR_CONNECTED;
	/* Loopback: DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD */
	return (m & 1) << 5 | (m & 2) << 3 | (m & 4) << 4 | (m & 8) << 4;
}

/* Called with the bus lock held (platform.c). */
void serial_pio(unsigned int reg, uint8_t *data, bool write)
{
	bool dlab = uart.lcr & LCR_DLAB;
	uint8_t v = *data;

	if (write) {
		switch (reg) {
		case UART_RX:
			if (dlab) {
				uart.dll = v;
				break;
			}
			tx(v);
			/* The byte left at once: the THR is empty again. */
			uart.thr_pending = true;
			break;
		case UART_IER:
			if (dlab) {
				uart.dlm = v;
				break;
			}
			/* Enabling the THR interrupt with an empty THR raises it. */
			if ((v & IER_THRI) && !(uart.ier & IER_THRI))
				uart.thr_pending = true;
			uart.ier = v & 0x0f;
			break;
		case UART_IIR:
			uart.fcr = v & 0xc9;
			if (v & FCR_CLEAR_RX)
				uart.rx_len = 0;
			break;
		case UART_LCR:
			uart.lcr = v;
			break;
		case UART_MCR:
			uart.mcr = v & 0x1f;
			break;
		case UART_SCR:
			uart.scr = v;
			break;
		}
	} else {
		switch (reg) {
		case UART_RX:
			if (dlab) {
				v = uart.dll;
			} else if (uart.rx_len) {
				v = uart.rx[uart.rx_head];
				uart.rx_head = (uart.rx_head + 1) % RX_SIZE;
				uart.rx_len--;
				pthread_cond_signal(&rx_room);
			} else {
				v = 0;
			}
			break;
		case UART_IER:
			v = dlab ? uart.dlm : uart.ier;
			break;
		case UART_IIR:
			v = uart_iir();
			/* Identifying a THR-empty interrupt clears it. */
			if ((v & 0x0f) == IIR_THRI)
				uart.thr_pending = false;
			break;
		case UART_LCR:
			v = uart.lcr;
			break;
		case UART_MCR:
			v = uart.mcr;
			break;
		case UART_LSR:
			v = LSR_THRE | LSR_TEMT | (uart.rx_len ? LSR_DR : 0);
			break;
		case UART_MSR:
			v = uart_msr();
			break;
		default:
			v = uart.scr;
		}
		*data = v;
	}
	uart_update_irq();
}

void terminal_restore(void)
{
	if (tio_saved)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved_tio);
}

static void restore_and_reraise(int sig)
{
	terminal_restore();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Keys to the guest: raw mode, with Ctrl-A as hvx-run's escape. */
static void terminal_raw(void)
{
	struct termios t;

	if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &saved_tio) < 0)
		return;
	t = saved_tio;
	cfmakeraw(&t);
	if (tcsetattr(STDIN_FILENO, TCSANOW, &t) < 0)
		return;
	tio_saved = true;
	atexit(terminal_restore);
	signal(SIGTERM, restore_and_reraise);
	signal(SIGHUP, restore_and_reraise);
	signal(SIGQUIT, restore_and_reraise);
}

static void *input_thread(void *arg)
{
	bool tty = tio_saved, escape = false;
	uint8_t buf[64];
	ssize_t n, i;

	(void)arg;
	for (;;) {
		n = read(STDIN_FILENO, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return NULL;	/* EOF: the guest just gets no more input */
		bus_lock_take();
		for (i = 0; i < n; i++) {
			if (tty && escape) {
				escape = false;
				if (buf[i] == 'x') {
					guest_stop(EXIT_USER, "Ctrl-A x");
					continue;
				}
				if (buf[i] != CTRL_A)
					continue;
			} else if (tty && buf[i] == CTRL_A) {
				escape = true;
				continue;
			}
			while (uart.rx_len == RX_SIZE)
				bus_lock_wait(&rx_room);
			rx_push(buf[i]);
			uart_update_irq();
		}
		bus_lock_release();
	}
}

void serial_init(void)
{
	pthread_t t;
	sigset_t all, old;

	terminal_raw();
	/* Signals are for the vCPU threads (vcpu.c), not this one. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	if (pthread_create(&t, NULL, input_thread, NULL))
		die("cannot start the console's input thread");
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_detach(t);
}
