git init -q -b main
git add -A
git commit -q -m "Initial commit"
git init -q --bare -b main ../origin.git
git remote add origin ../origin.git
git push -q -u origin main
