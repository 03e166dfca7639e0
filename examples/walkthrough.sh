#!/usr/bin/env bash
# Recorrido por el núcleo de documentos sobre los ejemplos incluidos:
# certificado → construir → firmar → verificar → CUFE → documento alterado.
# Usa examples/certificado-prueba.p12: un PKCS#12 heredado (RC2-40/3DES) hecho con
# llaves de prueba, contraseña «prueba-rc2». No es un certificado real.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-$(mktemp -d)}"
mkdir -p "$out"
export FE_TUI_CERT_PASSWORD=prueba-rc2
cert=examples/certificado-prueba.p12

step() { printf '\n== %s\n' "$*"; }

step "Certificado"
fe-tui cert info "$cert"

for doc in factura nota-credito nota-debito factura-consumidor-final; do
  step "Construir y firmar examples/$doc.json"
  fe-tui build "examples/$doc.json" --now -o "$out/$doc.xml"
  fe-tui sign "$out/$doc.xml" --cert "$cert" -o "$out/$doc-firmada.xml"
  fe-tui verify "$out/$doc-firmada.xml" > "$out/$doc-verificacion.txt"
  head -1 "$out/$doc-verificacion.txt"
done

step "Verificación completa de la factura firmada"
fe-tui verify "$out/factura-firmada.xml"

step "CUFE recalculado con la clave técnica de habilitación"
fe-tui cufe "$out/factura-firmada.xml" --key fc8eac422eba16e22ffd8c6f94b3f40a6e38162c

step "CUDE de la nota crédito con el PIN del software"
fe-tui cufe "$out/nota-credito-firmada.xml" --key 12345

step "Una factura alterada después de firmar (se espera código de salida 1)"
sed 's/>1018060.00</>1018061.00</' "$out/factura-firmada.xml" > "$out/factura-alterada.xml"
set +e
fe-tui verify "$out/factura-alterada.xml"
code=$?
set -e
echo "código de salida: $code"
[ "$code" = 1 ]

step "Listo. Archivos en $out"
ls -l "$out"
