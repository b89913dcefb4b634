"""Make the filled-template fixtures from a template written by `u4ssc template`.

    u4ssc template --city bodo --year 2025 --lang nb --out /tmp/bodo.xlsx
    python3 tests/data/make_template_fixtures.py /tmp/bodo.xlsx
    soffice --headless --convert-to xlsx --outdir /tmp/lo tests/data/valid/template_bodo_2025_filled.xlsx
    cp /tmp/lo/template_bodo_2025_filled.xlsx tests/data/valid/

The filled one is saved once more by LibreOffice, as a city's office suite would save it.
The values typed here are the ones `round::a_filled_template_imports_exactly_what_was_typed`
reads back; change both together.
"""
import sys
import openpyxl

src = sys.argv[1]

# value column I, numerator J, denominator K, quality L, origin M, source N, verified O, note P
FILLED = {
    7: {"I": 96.5, "L": "nøyaktig måling", "N": "SSB tabell 11000", "O": "JA"},  # EC: ICT: ICT: 1C
    8: {"I": "88,5"},                 # EC: ICT: ICT: 2C, typed as text with a decimal comma
    9: {"I": 110250},                 # EC: ICT: ICT: 3C
    10: {"I": 99.9},                  # EC: ICT: ICT: 4C 3G
    11: {"I": 99.5, "M": "nasjonal statistikk"},  # 4C 4G
    12: {"I": "NR", "P": "ikke målt i 2025"},     # EC: ICT: ICT: 5C
    13: {"J": 4100, "K": 8200},       # EC: ICT: WS: 1C -> 50 %
    14: {"I": 30, "L": 4},            # EC: ICT: WS: 2A
    15: {"I": 12.25},                 # EC: ICT: D: 1A
    16: {"I": "JA"},                  # EC: ICT: ES: 1C (yes/no), if it is one; else a number below
}


def load():
    return openpyxl.load_workbook(src)


def fill(ws, rows):
    for r, cells in rows.items():
        for col, v in cells.items():
            ws[f"{col}{r}"] = v


wb = load()
ws = wb["Submission"]
print("row 16 is", ws["A16"].value, ws["E16"].value)
if "yes" not in str(ws["E16"].value).lower() and "ja" not in str(ws["E16"].value).lower():
    FILLED[16] = {"I": 77}
fill(ws, FILLED)
wb.save("tests/data/valid/template_bodo_2025_filled.xlsx")

# a row deleted (the one of EC: ICT: ICT: 3C, row 9)
wb = load()
ws = wb["Submission"]
ws.protection.sheet = False
fill(ws, {7: {"I": 95}})
ws.delete_rows(9)
wb.save("tests/data/invalid/template_with_a_row_deleted.xlsx")

# two rows swapped whole (rows 7 and 8: 1C and 2C)
wb = load()
ws = wb["Submission"]
ws.protection.sheet = False
a = [c.value for c in ws[7]]
b = [c.value for c in ws[8]]
for i, v in enumerate(b):
    ws.cell(7, i + 1).value = v
for i, v in enumerate(a):
    ws.cell(8, i + 1).value = v
fill(ws, {7: {"I": 88}, 8: {"I": 96}})
wb.save("tests/data/invalid/template_with_a_row_moved.xlsx")

# made by a u4ssc with another catalog
wb = load()
ws = wb["Submission"]
ws["B3"] = "2025.01"
fill(ws, {7: {"I": 95}})
wb.save("tests/data/invalid/template_of_another_catalog_version.xlsx")
