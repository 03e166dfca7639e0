#!/usr/bin/env bash
# Recorrido por el núcleo de documentos sobre los ejemplos incluidos:
# certificado → construir → firmar → verificar → CUFE → documento alterado →
# envío al simulador local de la DIAN (doble de pruebas) → estado → Regla 90 → rechazo → rangos →
# cola de documentos de la empresa de demostración (numerar, firmar, revisar, enviar, listar) →
# flujos de la empresa (certificado, habilitación con su set de pruebas, numeración, doctor, triage).
# Usa examples/certificado-prueba.p12: un PKCS#12 heredado (RC2-40/3DES) hecho con
# llaves de prueba, contraseña «prueba-rc2». No es un certificado real.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-$(mktemp -d)}"
port="${FE_TUI_SIM_PORT:-$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}"
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

step "Simulador local de la DIAN (doble de pruebas) en 127.0.0.1:$port"
fe-tui simulator --port "$port" --state-dir "$out/simulador" > "$out/simulador.log" 2>&1 &
sim_pid=$!
trap 'kill $sim_pid 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  sleep 0.1
done
export FE_TUI_ENV=simulator
export FE_TUI_DIAN_URL="http://127.0.0.1:$port/WcfDianCustomerServices.svc"
export FE_TUI_CERT="$cert"
export FE_TUI_STATE_DIR="$out/estado"

step "Enviar la factura firmada (SendBillSync)"
fe-tui dian send "$out/factura-firmada.xml"

step "Consultar su estado por CUFE (GetStatus)"
cufe=$(grep -o '<cbc:UUID[^>]*>[0-9a-f]*' "$out/factura-firmada.xml" | head -1 | sed 's/.*>//')
fe-tui dian status "$cufe"

step "Reenviar el mismo documento: el diario de envíos lo reconoce y pregunta a la DIAN (GetStatus) en vez de reenviarlo"
fe-tui dian send "$out/factura-firmada.xml"
ls -l "$FE_TUI_STATE_DIR/journal/$cufe"

step "Enviar la factura alterada: rechazo explicado (se espera código de salida 1)"
fe-tui build examples/factura-consumidor-final.json --now -o "$out/consumidor.xml" > /dev/null
fe-tui sign "$out/consumidor.xml" --cert "$cert" -o "$out/consumidor-firmada.xml" > /dev/null
sed 's/>65100.00</>65101.00</' "$out/consumidor-firmada.xml" > "$out/consumidor-alterada.xml"
set +e
fe-tui dian send "$out/consumidor-alterada.xml"
code=$?
set -e
echo "código de salida: $code"
[ "$code" = 1 ]

step "Rangos de numeración del software (GetNumberingRange)"
fe-tui dian ranges --nit 900373076 --software-id "$(python3 -c 'import json; print(json.load(open("examples/factura.json"))["software"]["software_id"])')"

step "Cola de documentos: empresa de demostración (simulador dentro del proceso), numerar, firmar, revisar y enviar"
datos="$out/datos"
fe-tui --data-dir "$datos" demo --no-ui
export FE_TUI_CERT_PASSWORD=fe-tui-demo
fe-tui --data-dir "$datos" queue add examples/factura.json examples/factura-consumidor-final.json
fe-tui --data-dir "$datos" queue run
fe-tui --data-dir "$datos" queue list

step "Flujos de la empresa: certificado, habilitación (set de pruebas por la cola), numeración, doctor y triage"
fe-tui --data-dir "$datos" company list
fe-tui --data-dir "$datos" cert status
fe-tui --data-dir "$datos" habilitacion check registro --note "Registrado en el portal de la DIAN"
fe-tui --data-dir "$datos" habilitacion run-test-set
fe-tui --data-dir "$datos" habilitacion status
fe-tui --data-dir "$datos" ranges list
fe-tui --data-dir "$datos" doctor
fe-tui --data-dir "$datos" triage

step "Listo. Archivos en $out"
ls -l "$out"
