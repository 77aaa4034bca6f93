/** Figures: image grids (ImageIO) and plots (XChart), written as PNG. */
package io.jvae.viz;
