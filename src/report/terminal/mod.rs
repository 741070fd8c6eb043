//! Tables for the terminal (comfy-table): the summary of a run, the comparison of a run with
//! its baseline, the GPUs. In this folder, and only here, "table" means a terminal table.

mod compare;
mod gpu;
mod summary;

use std::ops::Range;

use comfy_table::{presets::UTF8_BORDERS_ONLY, CellAlignment, Table};

pub use compare::compare_table;
pub use gpu::gpu_table;
pub use summary::summary_table;

/// A terminal table with `header` and the columns in `right_aligned` aligned right.
pub fn table(header: &[&str], right_aligned: Range<usize>) -> Table {
    let mut table = Table::new();
    table.load_preset(UTF8_BORDERS_ONLY).set_header(header);
    for i in right_aligned {
        if let Some(column) = table.column_mut(i) {
            column.set_cell_alignment(CellAlignment::Right);
        }
    }
    table
}
