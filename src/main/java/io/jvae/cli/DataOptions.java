package io.jvae.cli;

import io.jvae.data.DataFiles;
import picocli.CommandLine.Option;

/** How to read the user's data files (a picocli mixin shared by train, score and eval). */
final class DataOptions {
    @Option(names = "--array", description = ".npz: the array holding the data (default: x if present, else the first)")
    String array;

    @Option(names = "--labels-array", description = ".npz: the array holding the labels (default without --array: y if present)")
    String labelsArray;

    @Option(names = "--label-column", description = "CSV: the column holding the labels, a header name or a column number counted from 1")
    String labelColumn;

    DataFiles.Options options() {
        return new DataFiles.Options(array, labelsArray, labelColumn);
    }

    boolean any() {
        return array != null || labelsArray != null || labelColumn != null;
    }
}
