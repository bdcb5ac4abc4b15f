git init -q -b main
git add -A
