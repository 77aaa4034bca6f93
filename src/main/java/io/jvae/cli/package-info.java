/** The command line: one class per command, Callable&lt;Integer&gt;, exit codes 0 / 1 runtime failure / 2 usage or bad input. */
package io.jvae.cli;
