git init -q -b main
git add -A
git commit -q -m "Initial commit"
git init -q --bare -b main ../origin.git
git remote add origin ../origin.git
git push -q -u origin main
# v1.4.0 was tagged and pushed, then main moved on without a version bump
git tag -a v1.4.0 -m 'Release v1.4.0'
git push -q origin v1.4.0
echo '## Changes' >> README.md
git commit -q -am 'Document the changes'
git push -q
